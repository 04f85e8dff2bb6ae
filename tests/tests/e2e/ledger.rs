//! The ledger over HTTPS: a household sharing a book (owner, editor,
//! viewer, a stranger who sees nothing), accounts with computed balances,
//! categories two levels deep, plain, split and transfer transactions,
//! filters with a cursor, bulk categorising, ownership and account deletion.

use fin_e2e::{Api, TestBox};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `method path` with `token` and an optional body.
pub(crate) async fn call(
    api: &Api,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    api.call(method, path, Some(token), body.as_ref()).await
}

pub(crate) async fn created(api: &Api, path: &str, token: &str, body: Value) -> Value {
    let (status, value) = call(api, Method::POST, path, token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "POST {path}: {value}");
    value
}

pub(crate) fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_string()
}

async fn balance(api: &Api, book: &str, account: &str, token: &str) -> i64 {
    let (status, value) = call(
        api,
        Method::GET,
        &format!("/api/v1/books/{book}/accounts/{account}"),
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{value}");
    value["balance"].as_i64().expect("balance")
}

#[tokio::test]
async fn a_household_shares_a_book_with_rights_enforced_and_balances_that_add_up() {
    // Many calls from one address in a moment: the API class's default
    // allowance is for people, not for a test.
    let mut api = Api::start(TestBox::with_config(
        "[limits]\napi_per_second = 10000\napi_burst = 10000\n",
    ));
    for (name, role) in [
        ("alice", "user"),
        ("bob", "user"),
        ("carol", "user"),
        ("gus", "guest"),
    ] {
        api.add_user(name, role);
    }
    let alice = api.sign_in("alice").await;
    let bob = api.sign_in("bob").await;
    let carol = api.sign_in("carol").await;
    let gus = api.sign_in("gus").await;

    let book = created(
        &api,
        "/api/v1/books",
        &alice,
        json!({"name": " Home ", "currency": "EUR"}),
    )
    .await;
    assert_eq!(book["name"], "Home");
    assert_eq!(book["role"], "owner");
    let b = id(&book);
    let books = |p: &str| format!("/api/v1/books/{b}{p}");

    // A guest reads at most; nobody sees a book that is not shared with them.
    let (status, _) = call(
        &api,
        Method::POST,
        "/api/v1/books",
        &gus,
        Some(json!({"name": "Mine", "currency": "EUR"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for token in [&bob, &carol, &gus] {
        let (status, body) = call(&api, Method::GET, &books(""), token, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (_, list) = call(&api, Method::GET, "/api/v1/books", token, None).await;
        assert_eq!(list["items"], json!([]));
    }

    let checking = created(&api, &books("/accounts"), &alice,
        json!({"name": "Joint checking", "kind": "checking", "opening_balance": 100_000, "opening_date": "2026-01-01"})).await;
    assert_eq!(
        checking["currency"], "EUR",
        "the book's currency by default"
    );
    let savings = created(
        &api,
        &books("/accounts"),
        &alice,
        json!({"name": "Savings", "kind": "savings"}),
    )
    .await;
    let dollars = created(
        &api,
        &books("/accounts"),
        &alice,
        json!({"name": "Dollars", "kind": "cash", "currency": "USD"}),
    )
    .await;
    let (checking, savings, dollars) = (id(&checking), id(&savings), id(&dollars));
    let (status, body) = call(
        &api,
        Method::POST,
        &books("/accounts"),
        &alice,
        Some(json!({"name": "Savings", "kind": "savings"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = call(
        &api,
        Method::POST,
        &books("/accounts"),
        &alice,
        Some(json!({"name": "X", "kind": "stocks"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let groceries = id(&created(
        &api,
        &books("/categories"),
        &alice,
        json!({"name": "Groceries"}),
    )
    .await);
    let food = id(&created(&api, &books("/categories"), &alice, json!({"name": "Food"})).await);
    let restaurants = id(&created(
        &api,
        &books("/categories"),
        &alice,
        json!({"name": "Restaurants", "parent": food}),
    )
    .await);
    let (status, body) = call(
        &api,
        Method::POST,
        &books("/categories"),
        &alice,
        Some(json!({"name": "Too deep", "parent": restaurants})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "two levels only: {body}"
    );

    // Sharing: bob edits, gus (a guest) may only view, carol stays out.
    let (status, body) = call(
        &api,
        Method::PUT,
        &books("/members/gus"),
        &alice,
        Some(json!({"role": "editor"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    for (who, role) in [("bob", "editor"), ("gus", "viewer")] {
        let (status, body) = call(
            &api,
            Method::PUT,
            &books(&format!("/members/{who}")),
            &alice,
            Some(json!({"role": role})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["role"], role);
    }
    let (status, _) = call(
        &api,
        Method::PUT,
        &books("/members/carol"),
        &bob,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the owner shares");
    let (_, members) = call(&api, Method::GET, &books("/members"), &gus, None).await;
    let mut names: Vec<(&str, &str)> = members["items"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["username"].as_str().unwrap_or(""),
                m["role"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // Listed by when they joined: bob and gus may share a second.
    names.sort();
    assert_eq!(
        names,
        [("alice", "owner"), ("bob", "editor"), ("gus", "viewer")]
    );

    // The editor records; the viewer reads and cannot write; the stranger sees nothing.
    let lunch = created(
        &api,
        &books("/transactions"),
        &bob,
        json!({
        "account_id": checking, "date": "2026-03-02", "amount": -4250, "payee": "Corner Shop",
        "category_id": groceries, "tags": ["Weekly", "weekly "]}),
    )
    .await;
    assert_eq!(lunch["currency"], "EUR");
    assert_eq!(lunch["tags"], json!(["weekly"]));
    let lunch = id(&lunch);
    let split = created(&api, &books("/transactions"), &bob, json!({
        "account_id": checking, "date": "2026-03-05", "amount": -10_000, "payee": "Market Hall",
        "splits": [{"category_id": groceries, "amount": -6_000}, {"category_id": restaurants, "amount": -4_000, "memo": "lunch"}]})).await;
    let split = id(&split);
    let (status, body) = call(
        &api,
        Method::POST,
        &books("/transactions"),
        &bob,
        Some(json!({
        "account_id": checking, "date": "2026-03-05", "amount": -10_000,
        "splits": [{"category_id": groceries, "amount": -6_000}, {"amount": -3_000}]})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "parts must add up: {body}"
    );
    assert!(
        body["detail"].as_str().unwrap_or("").contains("-9000"),
        "{body}"
    );
    let (status, body) = call(
        &api,
        Method::POST,
        &books("/transactions"),
        &gus,
        Some(json!({
        "account_id": checking, "date": "2026-03-05", "amount": -1})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = call(
        &api,
        Method::GET,
        &books(&format!("/transactions/{lunch}")),
        &gus,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a viewer reads");
    for change in [
        json!({"notes": "x"}),
        json!({"account_id": "nope", "amount": 1}),
    ] {
        let path = books(&format!("/transactions/{lunch}"));
        let (status, body) = call(&api, Method::PATCH, &path, &gus, Some(change)).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a viewer never writes, and learns nothing from the checks: {body}"
        );
    }
    let (status, body) = call(
        &api,
        Method::POST,
        &books("/transactions"),
        &bob,
        Some(json!({
        "account_id": checking, "date": "2026-03-05", "amount": -10, "category_id": groceries,
        "splits": [{"amount": -5}, {"amount": -5}]})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a split has no category of its own: {body}"
    );
    for (method, path) in [
        (Method::GET, books(&format!("/transactions/{lunch}"))),
        (Method::PATCH, books(&format!("/transactions/{lunch}"))),
        (Method::DELETE, books(&format!("/transactions/{lunch}"))),
        (Method::GET, books(&format!("/accounts/{checking}"))),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"notes": "mine now"}));
        let (status, answer) = call(&api, method.clone(), &path, &carol, body).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{method} {path} as a stranger: {answer}"
        );
        assert_eq!(
            answer["detail"], "no such book",
            "the same answer as for no book at all"
        );
    }
    // An id from another book is not found through this one.
    let other = id(&created(
        &api,
        "/api/v1/books",
        &carol,
        json!({"name": "Carol's", "currency": "EUR"}),
    )
    .await);
    let (status, _) = call(
        &api,
        Method::GET,
        &format!("/api/v1/books/{other}/transactions/{lunch}"),
        &carol,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(
        &api,
        Method::POST,
        &format!("/api/v1/books/{other}/transactions"),
        &carol,
        Some(json!({
        "account_id": checking, "date": "2026-03-05", "amount": -1})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another book's account: {body}"
    );

    // Transfers: a linked pair; between currencies both amounts are given.
    let (status, pair) = call(&api, Method::POST, &books("/transfers"), &bob, Some(json!({
        "from_account_id": checking, "to_account_id": savings, "date": "2026-03-10", "amount": 20_000}))).await;
    assert_eq!(status, StatusCode::CREATED, "{pair}");
    let sides = pair["items"].as_array().expect("two sides");
    assert_eq!(sides.len(), 2);
    assert_eq!(sides[0]["amount"], -20_000);
    assert_eq!(sides[1]["amount"], 20_000);
    assert_eq!(sides[0]["transfer_id"], sides[1]["transfer_id"]);
    let (status, body) = call(&api, Method::POST, &books("/transfers"), &bob, Some(json!({
        "from_account_id": checking, "to_account_id": savings, "date": "2026-03-10", "amount": 100, "to_amount": 150}))).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a transfer in one currency makes no money: {body}"
    );
    let (status, body) = call(&api, Method::POST, &books("/transfers"), &bob, Some(json!({
        "from_account_id": checking, "to_account_id": dollars, "date": "2026-03-11", "amount": 5_000}))).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no rate is assumed: {body}"
    );
    let (status, fx) = call(&api, Method::POST, &books("/transfers"), &bob, Some(json!({
        "from_account_id": checking, "to_account_id": dollars, "date": "2026-03-11", "amount": 5_000, "to_amount": 5_400}))).await;
    assert_eq!(status, StatusCode::CREATED, "{fx}");
    assert_eq!(fx["items"][1]["currency"], "USD");

    assert_eq!(
        balance(&api, &b, &checking, &gus).await,
        100_000 - 4_250 - 10_000 - 20_000 - 5_000
    );
    assert_eq!(balance(&api, &b, &savings, &gus).await, 20_000);
    assert_eq!(balance(&api, &b, &dollars, &gus).await, 5_400);

    // Deleting one side of a transfer deletes both.
    let savings_side = sides[1]["id"].as_str().expect("id");
    let (status, deleted) = call(
        &api,
        Method::DELETE,
        &books(&format!("/transactions/{savings_side}")),
        &bob,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["deleted"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        balance(&api, &b, &checking, &alice).await,
        100_000 - 4_250 - 10_000 - 5_000
    );
    assert_eq!(balance(&api, &b, &savings, &alice).await, 0);

    // A split's parts keep adding up: an amount alone cannot change.
    let (status, body) = call(
        &api,
        Method::PATCH,
        &books(&format!("/transactions/{split}")),
        &bob,
        Some(json!({"amount": -11_000})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = call(&api, Method::PATCH, &books(&format!("/transactions/{split}")), &bob, Some(json!({
        "amount": -11_000, "splits": [{"category_id": groceries, "amount": -7_000}, {"category_id": restaurants, "amount": -4_000}]}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revision"], 2);
    let (status, body) = call(
        &api,
        Method::PATCH,
        &books(&format!("/transactions/{split}")),
        &alice,
        Some(json!({
        "revision": 1, "notes": "made from an old screen"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a change made from revision 1 is not written over 2: {body}"
    );
    let (status, body) = call(
        &api,
        Method::PATCH,
        &books(&format!("/transactions/{lunch}")),
        &bob,
        Some(json!({"category_id": null, "state": "cleared"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["category_id"], Value::Null);

    // Filters: a category finds split parts too; uncategorised; text; amounts.
    let list = |query: &str| books(&format!("/transactions?{query}"));
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id)
            .collect()
    };
    let (_, page) = call(
        &api,
        Method::GET,
        &list(&format!("category={groceries}")),
        &gus,
        None,
    )
    .await;
    assert_eq!(ids(&page), [split.as_str()]);
    let (_, page) = call(&api, Method::GET, &list("uncategorised=true"), &gus, None).await;
    assert_eq!(ids(&page), [lunch.as_str()]);
    let (_, page) = call(&api, Method::GET, &list("q=market"), &gus, None).await;
    assert_eq!(ids(&page), [split.as_str()]);
    let (_, page) = call(
        &api,
        Method::GET,
        &list("min_amount=-5000&max_amount=-1"),
        &gus,
        None,
    )
    .await;
    let amounts: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["amount"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(
        amounts,
        [-5_000, -4_250],
        "the dollar transfer's side and the shop, newest first"
    );
    let (status, _) = call(&api, Method::GET, &list("from=2026-02-30"), &gus, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The cursor walks every transaction once, newest first.
    let (_, all) = call(&api, Method::GET, &list("limit=500"), &gus, None).await;
    let everything = ids(&all);
    assert_eq!(everything.len(), 4, "{all}");
    let mut walked = Vec::new();
    let mut query = "limit=1".to_string();
    loop {
        let (status, page) = call(&api, Method::GET, &list(&query), &gus, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        walked.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, everything);
    let (status, _) = call(&api, Method::GET, &list("cursor=zz"), &gus, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Bulk categorising leaves splits and transfers alone.
    let (status, body) = call(
        &api,
        Method::POST,
        &books("/transactions/categorise"),
        &bob,
        Some(json!({
        "ids": everything, "category_id": groceries})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], json!([lunch]));

    // Ownership passes on; the old owner stays as an editor. Deleting the
    // new owner's account hands the book to its longest-standing editor.
    let (status, body) = call(
        &api,
        Method::POST,
        &books("/owner"),
        &alice,
        Some(json!({"username": "bob"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "editor");
    let (status, _) = call(&api, Method::DELETE, &books(""), &alice, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the owner deletes");
    let output = api.testbox.finctl(&["user", "delete", "bob", "--yes"]);
    assert!(output.status.success(), "{}", fin_e2e::text(&output));
    let (status, body) = call(&api, Method::GET, &books(""), &alice, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "owner");
    assert_eq!(
        balance(&api, &b, &checking, &alice).await,
        100_000 - 4_250 - 11_000 - 5_000
    );

    // A viewer may leave; the owner deletes the book and all in it.
    let (status, _) = call(&api, Method::DELETE, &books("/members/gus"), &gus, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&api, Method::GET, &books(""), &gus, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&api, Method::DELETE, &books(""), &alice, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &api,
        Method::GET,
        &books(&format!("/transactions/{split}")),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Uploads `file` as a statement of `account`: the status and the preview.
pub(crate) async fn upload(
    api: &Api,
    token: &str,
    book: &str,
    query: &str,
    file: &[u8],
) -> (StatusCode, Value) {
    let url = api
        .daemon
        .url(&format!("/api/v1/books/{book}/imports?{query}"));
    let response = api
        .client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(file.to_vec())
        .send()
        .await
        .expect("upload");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `POST .../imports/{import}/{action}` (`commit` with an empty body, or `undo`).
pub(crate) async fn step(
    api: &Api,
    token: &str,
    book: &str,
    import: &str,
    action: &str,
) -> (StatusCode, Value) {
    let path = format!("/api/v1/books/{book}/imports/{import}/{action}");
    let body = (action == "commit").then(|| json!({}));
    call(api, Method::POST, &path, token, body).await
}

async fn count(api: &Api, book: &str, account: &str, token: &str) -> usize {
    let path = format!("/api/v1/books/{book}/transactions?account={account}&limit=500");
    let (status, page) = call(api, Method::GET, &path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().map_or(0, Vec::len)
}

const OFX: &str = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR\n<BANKTRANLIST>\n<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-42.17<FITID>F1<NAME>CORNER STORE</STMTTRN>\n<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260106<TRNAMT>1500.00<FITID>F2<NAME>ACME PAYROLL</STMTTRN>\n</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n";

#[tokio::test]
async fn statements_are_previewed_committed_at_once_flagged_when_seen_again_and_undone() {
    let mut api = Api::start(TestBox::with_config(
        "[limits]\napi_per_second = 10000\napi_burst = 10000\nupload_per_second = 10000\nupload_burst = 10000\n[import]\nmax_file_bytes = 4096\n",
    ));
    api.add_user("alice", "user");
    api.add_user("vera", "user");
    let alice = api.sign_in("alice").await;
    let vera = api.sign_in("vera").await;
    let b = id(&created(
        &api,
        "/api/v1/books",
        &alice,
        json!({"name": "Home", "currency": "EUR"}),
    )
    .await);
    let account = id(&created(
        &api,
        &format!("/api/v1/books/{b}/accounts"),
        &alice,
        json!({"name": "Giro", "kind": "checking"}),
    )
    .await);
    let (status, _) = call(
        &api,
        Method::PUT,
        &format!("/api/v1/books/{b}/members/vera"),
        &alice,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // CSV: a preview writes nothing; the commit writes every row at once.
    let csv = b"date,amount,payee,description\n2026-01-02,-3.50,Cafe Central,\n2026-01-02,-3.50,Cafe Central,\n2026-01-03,-12.00,=HYPERLINK(\"x\"),bus\n";
    let query = format!("account={account}&format=csv&preset=iso-signed&filename=jan.csv");
    let (status, first) = upload(&api, &alice, &b, &query, csv).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["rows_total"], 3);
    assert_eq!(first["duplicates"], 0);
    assert_eq!(first["import"]["status"], "preview");
    assert_eq!(
        count(&api, &b, &account, &alice).await,
        0,
        "a preview writes nothing"
    );
    let first_id = first["import"]["id"].as_str().expect("id").to_string();
    let (status, done) = step(&api, &alice, &b, &first_id, "commit").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        done["committed_rows"], 3,
        "two coffees on one day are two transactions"
    );
    assert_eq!(count(&api, &b, &account, &alice).await, 3);
    let (status, _) = step(&api, &alice, &b, &first_id, "commit").await;
    assert_eq!(status, StatusCode::CONFLICT, "committed once only");

    // The same file again: every row flagged with the row it duplicates;
    // an overlapping statement: only the overlap.
    let (_, again) = upload(&api, &alice, &b, &query, csv).await;
    assert_eq!(again["duplicates"], 3, "{again}");
    assert!(again["rows"][0]["duplicate_of"].is_string());
    // A duplicate can be kept on purpose, by its index in the file.
    let again_id = again["import"]["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/books/{b}/imports/{again_id}/commit");
    let body = json!({"keep_duplicates": [0]});
    let (status, done) = call(&api, Method::POST, &path, &alice, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["committed_rows"], 1);
    assert_eq!(count(&api, &b, &account, &alice).await, 4);
    let overlap = b"date,amount,payee,description\n2026-01-03,-12.00,=HYPERLINK(\"x\"),bus\n2026-01-04,-7.00,Bakery,\n";
    let (_, overlapping) = upload(&api, &alice, &b, &query, overlap).await;
    assert_eq!(overlapping["duplicates"], 1, "{overlapping}");
    let overlap_id = overlapping["import"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (status, done) = step(&api, &alice, &b, &overlap_id, "commit").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        done["committed_rows"], 1,
        "the duplicate is left out unless kept"
    );
    assert_eq!(count(&api, &b, &account, &alice).await, 5);

    // OFX, twice: the bank's ids mark the second as duplicates.
    let ofx_query = format!("account={account}&format=ofx");
    let (status, ofx) = upload(&api, &alice, &b, &ofx_query, OFX.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{ofx}");
    let ofx_id = ofx["import"]["id"].as_str().expect("id").to_string();
    let (status, _) = step(&api, &alice, &b, &ofx_id, "commit").await;
    assert_eq!(status, StatusCode::OK);
    let (_, ofx_again) = upload(&api, &alice, &b, &ofx_query, OFX.as_bytes()).await;
    assert_eq!(ofx_again["duplicates"], 2, "{ofx_again}");
    assert_eq!(count(&api, &b, &account, &alice).await, 7);

    // QIF and CAMT.053 too.
    let qif = b"!Type:Bank\nD02/01/2026\nT-9.99\nPStreaming\n^\n";
    let (status, qif) = upload(
        &api,
        &alice,
        &b,
        &format!("account={account}&format=qif&date_order=month_first"),
        qif,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{qif}");
    assert_eq!(qif["rows"][0]["date"], "2026-02-01");
    let camt = "<?xml version=\"1.0\"?><Document><BkToCstmrStmt><Stmt><Acct><Ccy>EUR</Ccy></Acct><Ntry><Amt Ccy=\"EUR\">20.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2026-02-02</Dt></BookgDt><AcctSvcrRef>C1</AcctSvcrRef></Ntry><Ntry><Amt Ccy=\"EUR\">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts><BookgDt><Dt>2026-02-03</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt></Document>";
    let (status, camt) = upload(
        &api,
        &alice,
        &b,
        &format!("account={account}&format=camt"),
        camt.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{camt}");
    assert_eq!(camt["rows"][0]["amount"], -2000);
    // The pending entry is named, not imported.
    assert_eq!(camt["rows_total"], 1, "{camt}");
    assert_eq!(camt["skipped"].as_array().map(Vec::len), Some(1), "{camt}");

    // Undo takes every row of an import out again, and only once.
    let (status, undone) = step(&api, &alice, &b, &ofx_id, "undo").await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    assert_eq!(undone["status"], "undone");
    assert_eq!(count(&api, &b, &account, &alice).await, 5);
    let (status, _) = step(&api, &alice, &b, &ofx_id, "undo").await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Hostile and broken files: problems with places, nothing imported.
    let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>\n<Document><BkToCstmrStmt><Stmt><Ntry><Amt>&b;</Amt></Ntry></Stmt></BkToCstmrStmt></Document>";
    let (status, refused) = upload(
        &api,
        &alice,
        &b,
        &format!("account={account}&format=camt"),
        bomb.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{refused}");
    assert_eq!(refused["rows_total"], 0);
    assert_eq!(refused["problems"][0]["line"], 2);
    let refused_id = refused["import"]["id"].as_str().expect("id").to_string();
    let (status, body) = step(&api, &alice, &b, &refused_id, "commit").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let ragged =
        b"date,amount,payee,description\n2026-03-01,-1.00,A,\n2026-03-02\n2026-03-03,-1.x0,B,\n";
    let (_, ragged) = upload(&api, &alice, &b, &query, ragged).await;
    let places: Vec<(i64, Option<i64>)> = ragged["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| (p["line"].as_i64().unwrap_or(0), p["column"].as_i64()))
        .collect();
    assert_eq!(places, [(3, None), (4, Some(2))]);
    let ragged_id = ragged["import"]["id"].as_str().expect("id").to_string();
    let (status, _) = step(&api, &alice, &b, &ragged_id, "commit").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nothing is half-imported"
    );
    let (status, body) = upload(&api, &alice, &b, &query, &vec![b'x'; 5000]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, body) = upload(&api, &vera, &b, &query, csv).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a viewer imports nothing: {body}"
    );
    assert_eq!(
        count(&api, &b, &account, &alice).await,
        5,
        "and the daemon is unharmed"
    );
    let (status, list) = call(
        &api,
        Method::GET,
        &format!("/api/v1/books/{b}/imports"),
        &vera,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(9), "{list}");
}

//! Rules, budgets and reports over HTTPS: rules tidy an import's preview
//! and what it commits, run again on demand (a preview first, then for
//! real, and a second run changes nothing); a budget counts its
//! subcategories; every report adds up to the transactions it covers, and
//! its CSV export is safe to open in a spreadsheet.

use fin_e2e::{Api, TestBox};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::ledger::{call, created, id, step, upload};

fn sum(items: &Value, field: &str) -> i64 {
    items
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i[field].as_i64().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn rules_tidy_imports_budgets_count_and_reports_add_up() {
    let mut api = Api::start(TestBox::with_config(
        "[limits]\napi_per_second = 10000\napi_burst = 10000\nupload_per_second = 10000\nupload_burst = 10000\n",
    ));
    api.add_user("alice", "user");
    api.add_user("vera", "user");
    api.add_user("sam", "user");
    let alice = api.sign_in("alice").await;
    let vera = api.sign_in("vera").await;
    let sam = api.sign_in("sam").await;
    let b = id(&created(
        &api,
        "/api/v1/books",
        &alice,
        json!({"name": "Home", "currency": "EUR"}),
    )
    .await);
    let books = |p: &str| format!("/api/v1/books/{b}{p}");
    let (status, _) = call(
        &api,
        Method::PUT,
        &books("/members/vera"),
        &alice,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let giro = id(&created(
        &api,
        &books("/accounts"),
        &alice,
        json!({"name": "Giro", "kind": "checking", "opening_balance": 50_000, "opening_date": "2025-12-01"}),
    )
    .await);
    let savings = id(&created(
        &api,
        &books("/accounts"),
        &alice,
        json!({"name": "Savings", "kind": "savings"}),
    )
    .await);
    let food = id(&created(&api, &books("/categories"), &alice, json!({"name": "Food"})).await);
    let groceries = id(&created(
        &api,
        &books("/categories"),
        &alice,
        json!({"name": "Groceries", "parent": food}),
    )
    .await);
    let transport = id(&created(
        &api,
        &books("/categories"),
        &alice,
        json!({"name": "Transport"}),
    )
    .await);

    // Rules: checked with the field named; only editors write them.
    let lidl = id(&created(
        &api,
        &books("/rules"),
        &alice,
        json!({
        "name": "Lidl is groceries",
        "conditions": {"payee": {"match": "contains", "value": "lidl"}, "max_amount": 0},
        "actions": {"category_id": groceries, "tags": ["Supermarket"]}}),
    )
    .await);
    let amazon = id(&created(
        &api,
        &books("/rules"),
        &alice,
        json!({
        "name": "Amazon's name",
        "conditions": {"payee": {"match": "regex", "value": r"^amzn\b"}},
        "actions": {"payee": "Amazon"}}),
    )
    .await);
    let bus = id(&created(&api, &books("/rules"), &alice, json!({
        "name": "Bus",
        "conditions": {"description": {"match": "equals", "value": "bus ticket"}, "account_id": giro},
        "actions": {"category_id": transport}})).await);
    for (body, needle) in [
        (
            json!({"name": "x", "conditions": {"payee": {"match": "regex", "value": "(open"}}, "actions": {"tags": ["t"]}}),
            "conditions.payee.value",
        ),
        (
            json!({"name": "x", "conditions": {}, "actions": {"tags": ["t"]}}),
            "at least one condition",
        ),
        (
            json!({"name": "x", "conditions": {"min_amount": 1}, "actions": {"category_id": "nope"}}),
            "category",
        ),
    ] {
        let (status, problem) =
            call(&api, Method::POST, &books("/rules"), &alice, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap_or("").contains(needle),
            "{problem}"
        );
    }
    let (status, _) = call(
        &api,
        Method::POST,
        &books("/rules"),
        &vera,
        Some(json!({"name": "x", "conditions": {"min_amount": 1}, "actions": {"tags": ["t"]}})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer writes no rule");
    let (status, _) = call(&api, Method::GET, &books("/rules"), &sam, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a stranger sees no rule");

    // The order is the book's to set, with every rule named once.
    let (status, _) = call(
        &api,
        Method::POST,
        &books("/rules/order"),
        &alice,
        Some(json!({"ids": [bus, lidl]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, ordered) = call(
        &api,
        Method::POST,
        &books("/rules/order"),
        &alice,
        Some(json!({"ids": [bus, amazon, lidl]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ordered}");
    assert_eq!(ordered["items"][0]["id"], bus.as_str());
    assert_eq!(ordered["items"][2]["position"], 3);

    // An import's preview shows what the rules make of each row; the
    // commit writes exactly that; the bank's payee stays in the preview.
    let csv = "date,amount,payee,description\n\
               2026-01-03,-23.40,LIDL Berlin,\n\
               2026-01-04,-2.90,BVG,bus ticket\n\
               2026-01-05,-15.99,AMZN Mktp DE,\n\
               2026-01-06,-8.00,=cmd|' /C calc'!A0,\n\
               2026-01-28,2500.00,ACME Payroll,salary\n";
    let query = format!("account={giro}&format=csv");
    let (status, preview) = upload(&api, &alice, &b, &query, csv.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{preview}");
    let rows = &preview["rows"];
    assert_eq!(rows[0]["payee"], "LIDL Berlin");
    assert_eq!(rows[0]["after_rules"]["category_id"], groceries.as_str());
    assert_eq!(rows[0]["after_rules"]["tags"], json!(["supermarket"]));
    assert_eq!(rows[0]["rule_ids"], json!([lidl]));
    assert_eq!(rows[1]["after_rules"]["category_id"], transport.as_str());
    assert_eq!(rows[2]["after_rules"]["payee"], "Amazon");
    assert_eq!(rows[4]["rule_ids"], json!([]));
    let import = preview["import"]["id"].as_str().expect("id").to_string();
    let (status, done) = step(&api, &alice, &b, &import, "commit").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (_, page) = call(
        &api,
        Method::GET,
        &books(&format!("/transactions?category={groceries}")),
        &alice,
        None,
    )
    .await;
    assert_eq!(page["items"][0]["payee"], "LIDL Berlin");
    assert_eq!(page["items"][0]["tags"], json!(["supermarket"]));
    let (_, page) = call(
        &api,
        Method::GET,
        &books("/transactions?q=amazon"),
        &alice,
        None,
    )
    .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));

    // A transaction entered by hand is left alone until the rules are run.
    let by_hand = created(
        &api,
        &books("/transactions"),
        &alice,
        json!({
        "account_id": giro, "date": "2026-01-10", "amount": -1_250, "payee": "Lidl Express"}),
    )
    .await;
    assert_eq!(by_hand["category_id"], Value::Null);
    let (status, previewed) = call(
        &api,
        Method::POST,
        &books("/rules/preview"),
        &vera,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a viewer may look: {previewed}");
    assert_eq!(previewed["changed"], 1, "{previewed}");
    assert_eq!(
        previewed["items"][0]["transaction_id"],
        id(&by_hand).as_str()
    );
    assert_eq!(
        previewed["items"][0]["after"]["category_id"],
        groceries.as_str()
    );
    let (status, _) = call(
        &api,
        Method::POST,
        &books("/rules/apply"),
        &vera,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer applies nothing");
    let (_, shown) = call(
        &api,
        Method::GET,
        &books(&format!("/transactions/{}", id(&by_hand))),
        &alice,
        None,
    )
    .await;
    assert_eq!(
        shown["category_id"],
        Value::Null,
        "a preview writes nothing"
    );
    let (status, applied) = call(
        &api,
        Method::POST,
        &books("/rules/apply"),
        &alice,
        Some(json!({"from": "2026-01-01"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(
        (applied["changed"].as_i64(), applied["skipped"].as_i64()),
        (Some(1), Some(0))
    );
    let (_, shown) = call(
        &api,
        Method::GET,
        &books(&format!("/transactions/{}", id(&by_hand))),
        &alice,
        None,
    )
    .await;
    assert_eq!(shown["category_id"], groceries.as_str());
    assert_eq!(shown["revision"], 2);
    let (_, again) = call(
        &api,
        Method::POST,
        &books("/rules/apply"),
        &alice,
        Some(json!({})),
    )
    .await;
    assert_eq!(again["changed"], 0, "a second run changes nothing: {again}");
    let (status, _) = call(
        &api,
        Method::POST,
        &books("/rules/preview"),
        &alice,
        Some(json!({"rule_ids": ["nope"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // A split and a transfer, for the reports.
    created(&api, &books("/transactions"), &alice, json!({
        "account_id": giro, "date": "2026-02-02", "amount": -10_000, "payee": "Market",
        "splits": [{"category_id": groceries, "amount": -6_000}, {"category_id": transport, "amount": -4_000}]})).await;
    let (status, _) = call(&api, Method::POST, &books("/transfers"), &alice, Some(json!({
        "from_account_id": giro, "to_account_id": savings, "date": "2026-02-03", "amount": 100_000}))).await;
    assert_eq!(status, StatusCode::CREATED);

    // Budgets: Food counts Groceries; the month's refunds count against it.
    let budget = created(
        &api,
        &books("/budgets"),
        &alice,
        json!({"category_id": food, "amount": 30_000}),
    )
    .await;
    assert_eq!(budget["currency"], "EUR");
    let (status, _) = call(
        &api,
        Method::POST,
        &books("/budgets"),
        &alice,
        Some(json!({"category_id": food, "amount": 1})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "one budget per category and currency"
    );
    let (status, _) = call(
        &api,
        Method::POST,
        &books("/budgets"),
        &alice,
        Some(json!({"category_id": food, "amount": -1, "currency": "USD"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, budgets) = call(
        &api,
        Method::GET,
        &books("/budgets?month=2026-01"),
        &vera,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{budgets}");
    assert_eq!(budgets["items"][0]["spent"], 2_340 + 1_250);
    assert_eq!(budgets["items"][0]["remaining"], 30_000 - 3_590);
    let (_, budgets) = call(
        &api,
        Method::GET,
        &books("/budgets?month=2026-02"),
        &alice,
        None,
    )
    .await;
    assert_eq!(
        budgets["items"][0]["spent"], 6_000,
        "a split part by its own category"
    );
    let (status, _) = call(
        &api,
        Method::GET,
        &books("/budgets?month=2026-13"),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Reports add up to the transactions they cover.
    let (_, all) = call(
        &api,
        Method::GET,
        &books("/transactions?limit=500"),
        &alice,
        None,
    )
    .await;
    let all = all["items"].as_array().expect("items").clone();
    let non_transfer: i64 = all
        .iter()
        .filter(|t| t["transfer_id"].is_null())
        .map(|t| t["amount"].as_i64().expect("amount"))
        .sum();
    let report = |kind: &str| books(&format!("/reports/{kind}?from=2026-01&to=2026-02"));
    let (status, spending) = call(
        &api,
        Method::GET,
        &report("spending-by-category"),
        &vera,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{spending}");
    assert_eq!(sum(&spending["items"], "net"), non_transfer);
    let groceries_feb = spending["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["month"] == "2026-02" && i["category_id"] == groceries.as_str())
        .expect("groceries in February");
    assert_eq!(
        (
            groceries_feb["spent"].as_i64(),
            groceries_feb["parent_id"].as_str()
        ),
        (Some(6_000), Some(food.as_str()))
    );
    let (_, flows) = call(&api, Method::GET, &report("income-expense"), &alice, None).await;
    assert_eq!(sum(&flows["items"], "net"), non_transfer);
    assert_eq!(flows["items"][0]["income"], 250_000);
    let (_, payees) = call(
        &api,
        Method::GET,
        &books("/reports/top-payees?from=2026-01&to=2026-02&limit=100"),
        &alice,
        None,
    )
    .await;
    assert_eq!(sum(&payees["items"], "net"), non_transfer);
    let (_, balances) = call(&api, Method::GET, &report("balances"), &alice, None).await;
    for (account, opening) in [(&giro, 50_000), (&savings, 0)] {
        let moved: i64 = all
            .iter()
            .filter(|t| t["account_id"] == account.as_str())
            .map(|t| t["amount"].as_i64().expect("amount"))
            .sum();
        let end = balances["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|p| p["month"] == "2026-02" && p["account_id"] == account.as_str())
            .expect("a point");
        assert_eq!(end["balance"], opening + moved, "{balances}");
    }
    for (path, status) in [
        (books("/reports/everything"), StatusCode::NOT_FOUND),
        (
            books("/reports/balances?from=2026-00"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            books("/reports/balances?from=2026-03&to=2026-01"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            books("/reports/balances?from=2000-01&to=2026-01"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (got, body) = call(&api, Method::GET, &path, &alice, None).await;
        assert_eq!(got, status, "{path}: {body}");
    }
    let (status, _) = call(&api, Method::GET, &report("balances"), &sam, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The CSV export: the same rows, a formula written as text.
    let response = api
        .client
        .get(api.daemon.url(&books(
            "/reports/top-payees?from=2026-01&to=2026-02&format=csv",
        )))
        .bearer_auth(&vera)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap_or("")
            .contains("top-payees-2026-01-2026-02.csv")
    );
    let text = response.text().await.expect("text");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("payee,currency,spent,received,net,count")
    );
    assert!(
        text.contains("\r\n'=cmd|' /C calc'!A0,EUR,800,0,-800,1\r\n"),
        "{text}"
    );
    assert_eq!(
        lines.count(),
        payees["items"].as_array().map_or(0, Vec::len)
    );

    // Deleting a category clears the rules that set it and ends its budgets.
    let fun = id(&created(&api, &books("/categories"), &alice, json!({"name": "Fun"})).await);
    let cinema = created(
        &api,
        &books("/rules"),
        &alice,
        json!({
        "name": "Cinema", "conditions": {"payee": {"match": "contains", "value": "kino"}},
        "actions": {"category_id": fun, "tags": ["film"]}}),
    )
    .await;
    created(
        &api,
        &books("/budgets"),
        &alice,
        json!({"category_id": fun, "amount": 5_000}),
    )
    .await;
    let (status, _) = call(
        &api,
        Method::DELETE,
        &books(&format!("/categories/{fun}")),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, rules) = call(&api, Method::GET, &books("/rules"), &alice, None).await;
    let kept = rules["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["id"] == id(&cinema).as_str())
        .expect("kept");
    assert_eq!(
        (
            kept["actions"]["category_id"].clone(),
            kept["actions"]["tags"].clone()
        ),
        (Value::Null, json!(["film"]))
    );
    let (_, budgets) = call(&api, Method::GET, &books("/budgets"), &alice, None).await;
    assert_eq!(
        budgets["items"].as_array().map(Vec::len),
        Some(1),
        "{budgets}"
    );
    let (status, _) = call(
        &api,
        Method::DELETE,
        &books(&format!("/rules/{bus}")),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &api,
        Method::DELETE,
        &books(&format!("/rules/{bus}")),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_book_keeps_its_own_csv_presets_and_imports_keep_theirs() {
    let mut api = Api::start(TestBox::with_config(
        "[limits]\napi_per_second = 10000\napi_burst = 10000\nupload_per_second = 10000\nupload_burst = 10000\n",
    ));
    api.add_user("alice", "user");
    let alice = api.sign_in("alice").await;
    let b = id(&created(
        &api,
        "/api/v1/books",
        &alice,
        json!({"name": "Home", "currency": "EUR"}),
    )
    .await);
    let books = |p: &str| format!("/api/v1/books/{b}{p}");
    let giro = id(&created(
        &api,
        &books("/accounts"),
        &alice,
        json!({"name": "Giro", "kind": "checking"}),
    )
    .await);
    let toml = "name = \"my-bank\"\ndelimiter = \"|\"\nencoding = \"utf-8\"\ndate_format = \"%Y%m%d\"\ndecimal = \".\"\n\n[columns]\ndate = \"When\"\namount = \"How much\"\npayee = \"Who\"\n";
    let saved = created(
        &api,
        &books("/import-presets"),
        &alice,
        json!({"toml": toml}),
    )
    .await;
    assert_eq!(
        (saved["name"].as_str(), saved["shipped"].as_bool()),
        (Some("my-bank"), Some(false))
    );
    for (body, status) in [
        (json!({"toml": toml}), StatusCode::CONFLICT),
        (
            json!({"toml": toml.replace("my-bank", "iso-signed")}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"toml": "name = \"x\"\ndelimiter = \"||\"\n"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"toml": toml.replace("%Y%m%d", "%Q")}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (got, problem) = call(
            &api,
            Method::POST,
            &books("/import-presets"),
            &alice,
            Some(body),
        )
        .await;
        assert_eq!(got, status, "{problem}");
    }
    let (_, list) = call(&api, Method::GET, &books("/import-presets"), &alice, None).await;
    assert_eq!(list["items"][0]["name"], "my-bank");
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|p| p["name"] == "eu-semicolon" && p["shipped"] == true)
    );

    let file = "When|How much|Who\n20260301|-4.20|Bakery\n20260302|-60.00|Garage\n";
    let (status, preview) = upload(
        &api,
        &alice,
        &b,
        &format!("account={giro}&format=csv&preset=my-bank"),
        file.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{preview}");
    assert_eq!(preview["rows_total"], 2, "{preview}");
    assert_eq!(preview["rows"][1]["amount"], -6000);
    // The preset goes; the import read with it still commits the same rows.
    let (status, _) = call(
        &api,
        Method::DELETE,
        &books("/import-presets/my-bank"),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &api,
        Method::DELETE,
        &books("/import-presets/eu-semicolon"),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "fin's own presets stay");
    let iid = preview["import"]["id"].as_str().expect("id").to_string();
    let (status, done) = step(&api, &alice, &b, &iid, "commit").await;
    assert_eq!(
        (status, done["committed_rows"].as_i64()),
        (StatusCode::OK, Some(2)),
        "{done}"
    );
    let (status, problem) = upload(
        &api,
        &alice,
        &b,
        &format!("account={giro}&format=csv&preset=my-bank"),
        file.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
}

//! Receipts meet the ledger over HTTPS: a receipt corrected after its bank
//! line was imported finds the line; a line imported after its receipt was
//! read finds the receipt; accepting attaches the receipt (one
//! transaction, never two); a rejected pair is not proposed again; a
//! receipt with no line is confirmed into a transaction of its own, with
//! its line items' categories as split parts where given.

use std::time::Duration;

use fin_e2e::{Api, TestBox};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::ledger::{call, created, id, step, upload};
use super::receipts::synthetic_png;

/// Uploads an image as the signed-in user, waits until it is read, and
/// corrects its fields: the receipt's id.
async fn receipt(api: &Api, seed: u32, fields: Value) -> String {
    let (status, body, _) = api
        .upload_raw(synthetic_png(seed, 300, 200), "image/png")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let rid = id(&body);
    api.wait_finished(&rid, Duration::from_secs(180)).await;
    let (status, body) = call(
        api,
        Method::PATCH,
        &format!("/api/v1/receipts/{rid}"),
        &api.token,
        Some(fields),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rid
}

async fn import(api: &Api, token: &str, book: &str, account: &str, csv: &str) {
    let query = format!("account={account}&format=csv");
    let (status, preview) = upload(api, token, book, &query, csv.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{preview}");
    let iid = preview["import"]["id"].as_str().expect("id").to_string();
    let (status, done) = step(api, token, book, &iid, "commit").await;
    assert_eq!(status, StatusCode::OK, "{done}");
}

#[tokio::test]
async fn receipts_find_their_bank_lines_both_ways_and_are_confirmed_once() {
    let mut api = Api::start(TestBox::with_config(
        "[limits]\napi_per_second = 10000\napi_burst = 10000\nupload_per_second = 10000\nupload_burst = 10000\n",
    ));
    api.add_user("vera", "user");
    let vera = api.sign_in("vera").await;
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
    call(
        &api,
        Method::PUT,
        &books("/members/vera"),
        &alice,
        Some(json!({"role": "viewer"})),
    )
    .await;
    let giro = id(&created(
        &api,
        &books("/accounts"),
        &alice,
        json!({"name": "Giro", "kind": "checking"}),
    )
    .await);
    let food = id(&created(&api, &books("/categories"), &alice, json!({"name": "Food"})).await);
    let home = id(&created(&api, &books("/categories"), &alice, json!({"name": "Home"})).await);

    // A line imported first; its receipt read and corrected later finds it.
    import(
        &api,
        &alice,
        &b,
        &giro,
        "date,amount,payee,description\n2026-01-31,-23.40,LIDL BERLIN,card 1234\n2026-01-31,-23.40,ARAL,fuel\n",
    )
    .await;
    let (_, open) = call(&api, Method::GET, &books("/matches"), &alice, None).await;
    assert_eq!(open["items"], json!([]));
    let lidl = receipt(
        &api,
        1,
        json!({"merchant": "Lidl Dienstleistung GmbH", "date": "2026-01-30", "total": 2340, "currency": "EUR"}),
    )
    .await;
    let (status, open) = call(&api, Method::GET, &books("/matches"), &alice, None).await;
    assert_eq!(status, StatusCode::OK, "{open}");
    let proposal = &open["items"][0];
    assert_eq!(proposal["receipt"]["id"], lidl.as_str());
    assert_eq!(
        proposal["transaction"]["payee"], "LIDL BERLIN",
        "of two lines of that amount, the one whose name fits: {open}"
    );
    assert!(
        proposal["score"].as_f64().expect("score") > 0.8,
        "{proposal}"
    );
    let (status, _) = call(&api, Method::GET, &books("/matches"), &vera, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer attaches nothing");
    let (status, _) = call(
        &api,
        Method::POST,
        &books(&format!("/receipts/{lidl}/confirm")),
        &alice,
        Some(json!({"account_id": giro})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "confirming a receipt with a proposed line would make two transactions"
    );
    let (status, line) = call(
        &api,
        Method::POST,
        &books(&format!("/matches/{}/accept", id(proposal))),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{line}");
    assert_eq!(line["receipts"], json!([lidl]));
    let (_, all) = call(&api, Method::GET, &books("/transactions"), &alice, None).await;
    assert_eq!(
        all["items"].as_array().map(Vec::len),
        Some(2),
        "one transaction with the receipt, never two"
    );
    let (status, _) = call(
        &api,
        Method::POST,
        &books(&format!("/receipts/{lidl}/confirm")),
        &alice,
        Some(json!({"account_id": giro})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "attached already");

    // A receipt read first; the line imported later finds it. A rejected
    // pair is not proposed again.
    let cafe = receipt(
        &api,
        2,
        json!({"merchant": "Cafe Central", "date": "2026-02-10", "total": 999, "currency": "EUR"}),
    )
    .await;
    import(
        &api,
        &alice,
        &b,
        &giro,
        "date,amount,payee,description\n2026-02-11,-9.99,CAFE CENTRAL WIEN,\n",
    )
    .await;
    let (_, open) = call(&api, Method::GET, &books("/matches"), &alice, None).await;
    assert_eq!(open["items"][0]["receipt"]["id"], cafe.as_str(), "{open}");
    let (status, _) = call(
        &api,
        Method::POST,
        &books(&format!("/matches/{}/reject", id(&open["items"][0]))),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, found) = call(
        &api,
        Method::POST,
        &books("/matches/find"),
        &alice,
        Some(json!({"from": "2026-01-01", "to": "2026-03-31"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["items"], json!([]), "rejected stays rejected");

    // A receipt with no line: confirmed into a transaction of its own; its
    // corrections carry over; categorised items become split parts.
    let (status, body, _) = api
        .upload_raw(synthetic_png(3, 300, 200), "image/png")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let market = id(&body);
    api.wait_finished(&market, Duration::from_secs(180)).await;
    let (status, _) = call(
        &api,
        Method::POST,
        &books(&format!("/receipts/{market}/confirm")),
        &alice,
        Some(json!({"account_id": giro})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nothing read: no total yet"
    );
    call(
        &api,
        Method::PATCH,
        &format!("/api/v1/receipts/{market}"),
        &alice,
        Some(json!({"merchant": "Market Hall", "date": "2026-03-01", "total": 1500, "currency": "EUR"})),
    )
    .await;
    let (status, _) = call(
        &api,
        Method::POST,
        &books(&format!("/receipts/{market}/confirm")),
        &alice,
        Some(json!({"account_id": giro, "items": [{"item": 0, "category_id": food}]})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the receipt has no item 0"
    );
    let confirmed = created(
        &api,
        &books(&format!("/receipts/{market}/confirm")),
        &alice,
        json!({"account_id": giro, "category_id": home, "tags": ["market"]}),
    )
    .await;
    assert_eq!(
        (
            confirmed["amount"].as_i64(),
            confirmed["date"].as_str(),
            confirmed["payee"].as_str(),
            confirmed["category_id"].as_str(),
        ),
        (
            Some(-1500),
            Some("2026-03-01"),
            Some("Market Hall"),
            Some(home.as_str())
        )
    );
    assert_eq!(confirmed["receipts"], json!([market]));
    let (status, _) = call(
        &api,
        Method::POST,
        &books(&format!("/receipts/{market}/confirm")),
        &alice,
        Some(json!({"account_id": giro})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a receipt is confirmed once");
    let (status, _) = call(
        &api,
        Method::POST,
        &books(&format!("/receipts/{market}/confirm")),
        &vera,
        Some(json!({"account_id": giro})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer confirms nothing");
}

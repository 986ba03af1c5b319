//! A fake Telegram Bot API: `POST /bot<token>/sendMessage` (any case) with a JSON body. Each
//! accepted message is recorded with its chat, text and the time on the fake's clock; the
//! answers can be scripted: 5xx for everyone, 429 with `retry_after`, 403 for blocked chats, and
//! a per-message latency.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, EndpointExt, Request, Response, Route, handler, web::Data};
use serde_json::{Value, json};

use crate::clock::VirtualClock;

/// One message the fake accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub token: String,
    pub chat_id: i64,
    pub text: String,
    /// When it arrived, on the fake's clock (virtual, or real time since start).
    pub at: Duration,
}

#[derive(Default)]
struct Script {
    server_errors: bool,
    /// The next `n` requests get 429 with this retry_after.
    too_many: Option<(u32, u32)>,
    blocked: HashSet<i64>,
    latency: Duration,
}

struct State {
    script: Mutex<Script>,
    sent: Mutex<Vec<SentMessage>>,
    requests: Mutex<HashMap<u16, u64>>,
    clock: Option<VirtualClock>,
    started: Instant,
}

/// A running fake; clones share it.
#[derive(Clone)]
pub struct FakeTelegram {
    state: Arc<State>,
    url: String,
}

impl FakeTelegram {
    /// Stamps messages by real time since start.
    pub async fn start() -> FakeTelegram {
        FakeTelegram::start_with(None).await
    }

    /// Stamps messages by `clock`.
    pub async fn start_with(clock: Option<VirtualClock>) -> FakeTelegram {
        let state = Arc::new(State {
            script: Mutex::default(),
            sent: Mutex::default(),
            requests: Mutex::default(),
            clock,
            started: Instant::now(),
        });
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("tcp");
        let app = Route::new().at("/*path", answer).data(state.clone());
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        FakeTelegram {
            state,
            url: format!("http://{addr}/"),
        }
    }

    /// The API base URL to configure.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        self.state.sent.lock().unwrap().clone()
    }

    /// How many requests were answered with each status.
    pub fn answered(&self, status: u16) -> u64 {
        *self
            .state
            .requests
            .lock()
            .unwrap()
            .get(&status)
            .unwrap_or(&0)
    }

    /// Every request gets 502 (true) or normal service (false).
    pub fn set_server_errors(&self, on: bool) {
        self.state.script.lock().unwrap().server_errors = on;
    }

    /// The next `count` requests get 429 with `retry_after` seconds.
    pub fn too_many_requests(&self, count: u32, retry_after: u32) {
        self.state.script.lock().unwrap().too_many = Some((count, retry_after));
    }

    /// Messages to `chat` get 403 "bot was blocked by the user".
    pub fn block(&self, chat: i64) {
        self.state.script.lock().unwrap().blocked.insert(chat);
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.script.lock().unwrap().latency = latency;
    }
}

fn reply(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(Body::from_json(body).expect("json"))
}

#[handler]
async fn answer(req: &Request, body: Body, state: Data<&Arc<State>>) -> Response {
    let path = req.uri().path().trim_start_matches('/').to_string();
    let (token, method) = path.split_once('/').unwrap_or((&path, ""));
    let token = token.strip_prefix("bot").unwrap_or(token).to_string();
    let body: Value =
        serde_json::from_slice(&body.into_vec().await.unwrap_or_default()).unwrap_or(Value::Null);
    let latency = state.script.lock().unwrap().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = respond(&state, &token, method, &body);
    *state
        .requests
        .lock()
        .unwrap()
        .entry(response.status().as_u16())
        .or_default() += 1;
    response
}

fn respond(state: &State, token: &str, method: &str, body: &Value) -> Response {
    if !method.eq_ignore_ascii_case("sendMessage") {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"ok": false, "error_code": 404, "description": "Not Found"}),
        );
    }
    let chat_id = body.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
    let text = body
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    {
        let mut script = state.script.lock().unwrap();
        if script.server_errors {
            return reply(
                StatusCode::BAD_GATEWAY,
                json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
            );
        }
        if let Some((left, retry_after)) = script.too_many {
            script.too_many = (left > 1).then_some((left - 1, retry_after));
            return reply(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"ok": false, "error_code": 429,
                       "description": format!("Too Many Requests: retry after {retry_after}"),
                       "parameters": {"retry_after": retry_after}}),
            );
        }
        if script.blocked.contains(&chat_id) {
            return reply(
                StatusCode::FORBIDDEN,
                json!({"ok": false, "error_code": 403,
                       "description": "Forbidden: bot was blocked by the user"}),
            );
        }
    }
    let at = match &state.clock {
        Some(clock) => clock.now(),
        None => state.started.elapsed(),
    };
    let mut sent = state.sent.lock().unwrap();
    sent.push(SentMessage {
        token: token.to_string(),
        chat_id,
        text: text.clone(),
        at,
    });
    let kind = if chat_id < 0 { "group" } else { "private" };
    reply(
        StatusCode::OK,
        json!({"ok": true, "result": {"message_id": sent.len(), "date": 0,
               "chat": {"id": chat_id, "type": kind, "title": "chat"}, "text": text}}),
    )
}

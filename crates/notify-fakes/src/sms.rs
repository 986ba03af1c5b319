//! A fake HTTP SMS gateway: any request to `/send` is recorded (method, headers, body) and
//! answered `200 OK accepted`, or 503 while an outage is switched on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, EndpointExt, Request, Response, Route, handler, web::Data};

/// One request the gateway received.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayRequest {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status answered.
    pub status: u16,
}

#[derive(Default)]
struct State {
    down: Mutex<bool>,
    latency: Mutex<Duration>,
    requests: Mutex<Vec<GatewayRequest>>,
}

#[derive(Clone)]
pub struct FakeSmsGateway {
    state: Arc<State>,
    url: String,
}

impl FakeSmsGateway {
    pub async fn start() -> FakeSmsGateway {
        let state = Arc::new(State::default());
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
        FakeSmsGateway {
            state,
            url: format!("http://{addr}/send"),
        }
    }

    /// The gateway's URL (`http://127.0.0.1:port/send`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn requests(&self) -> Vec<GatewayRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The requests answered 200.
    pub fn accepted(&self) -> Vec<GatewayRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }

    pub fn set_down(&self, down: bool) {
        *self.state.down.lock().unwrap() = down;
    }

    pub fn set_latency(&self, latency: Duration) {
        *self.state.latency.lock().unwrap() = latency;
    }
}

#[handler]
async fn answer(req: &Request, body: Body, state: Data<&Arc<State>>) -> Response {
    let latency = *state.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let down = *state.down.lock().unwrap();
    let status = if down { 503 } else { 200 };
    let record = GatewayRequest {
        method: req.method().to_string(),
        path_and_query: req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.into_string().await.unwrap_or_default(),
        status,
    };
    state.requests.lock().unwrap().push(record);
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .body(if down { "down" } else { "OK accepted" })
}

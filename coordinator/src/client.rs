//! The client side of the FBP protocol's WebSocket, for the programs that
//! talk to a coordinator (`msgflo-participants`, the benchmark, the tests):
//! the same request the coordinator's [`server`](crate::server) expects.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Error;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// An open FBP protocol connection.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The request for the runtime at `url` (`ws://HOST:PORT/`), offering the
/// `noflo` subprotocol as noflo-ui does; fails on a URL that is not one.
pub fn request(url: &str) -> Result<Request, Error> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("noflo"));
    Ok(request)
}

/// Connects with `request`; returns the connection and the subprotocol the
/// runtime accepted.
pub async fn open(request: Request) -> Result<(Socket, Option<String>), Error> {
    let (socket, response) = tokio_tungstenite::connect_async(request).await?;
    let subprotocol = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((socket, subprotocol))
}

/// [`request`] and [`open`] in one.
pub async fn connect(url: &str) -> Result<(Socket, Option<String>), Error> {
    open(request(url)?).await
}

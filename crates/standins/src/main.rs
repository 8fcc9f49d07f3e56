//! `dream-standins [--clerk 127.0.0.1:8791]`: runs the local stand-ins.

use dream_standins::{clerk, serve};
use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("dream-standins: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let mut clerk_addr: SocketAddr = "127.0.0.1:8791".parse().map_err(|e| format!("{e}"))?;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--clerk" => {
                let value = args.next().ok_or("--clerk needs an address")?;
                clerk_addr = value.parse().map_err(|e| format!("--clerk {value}: {e}"))?;
            }
            "-h" | "--help" => {
                println!("usage: dream-standins [--clerk 127.0.0.1:8791]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    let secret_key =
        std::env::var("CLERK_SECRET_KEY").unwrap_or_else(|_| clerk::DEV_SECRET_KEY.to_string());
    let clerk = clerk::Clerk::new(secret_key, format!("http://{clerk_addr}"));
    println!("Clerk stand-in on http://{clerk_addr} (sign in at http://{clerk_addr}/sign-in)");
    serve(clerk_addr, clerk.router()).await
}

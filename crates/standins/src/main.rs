//! `dream-standins`: runs the local Clerk and Stripe stand-ins (loopback only).
//!
//! ```text
//! dream-standins [--clerk 127.0.0.1:8791] [--stripe 127.0.0.1:8792]
//!                [--webhook URL]… [--price ID:CENTS]… [--state DIR]
//!                [--client-id ID] [--deliver-twice] [--out-of-order]
//!                [--rotate-keys-after-tokens N] [--receiver 127.0.0.1:8793]
//! ```
//! With `--state DIR` the stand-ins keep their state in `DIR/clerk.json` and
//! `DIR/stripe.json` between runs (otherwise only in memory).
//! Secrets come from `CLERK_SECRET_KEY`, `STRIPE_SECRET_KEY` and `STRIPE_WEBHOOK_SECRET`
//! (development defaults otherwise). The Stripe stand-in also serves Connect OAuth
//! (`/oauth/*`, what `STRIPE_CONNECT_BASE` points at) for the application `--client-id`
//! (or `STRIPE_CLIENT_ID`; `ca_dream_standin` otherwise).

use dream_standins::stripe::{Delivery, Stripe};
use dream_standins::{clerk, receiver, serve, stripe, StateFile};
use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("dream-standins: {e}");
        std::process::exit(1);
    }
}

const USAGE: &str = "usage: dream-standins [--clerk ADDR] [--stripe ADDR] [--webhook URL]... [--price ID:CENTS]... [--state DIR] [--client-id ID] [--deliver-twice] [--out-of-order] [--rotate-keys-after-tokens N] [--receiver ADDR]

  --clerk ADDR        the Clerk stand-in's address (127.0.0.1:8791)
  --stripe ADDR       the Stripe stand-in's address (127.0.0.1:8792); it also serves
                      Connect OAuth (/oauth/authorize, /oauth/token, /oauth/deauthorize)
                      and account onboarding (/connect/onboard/ID) there
  --webhook URL       where to deliver signed Stripe events (repeatable)
  --price ID:CENTS    create a monthly USD price with this id (repeatable)
  --state DIR         keep state in DIR/clerk.json and DIR/stripe.json between runs
  --client-id ID      the Connect application's OAuth client_id (STRIPE_CLIENT_ID, or
                      ca_dream_standin)
  --deliver-twice     deliver every Stripe event twice
  --out-of-order      deliver the events of one action newest first
  --rotate-keys-after-tokens N
                      rotate Clerk's signing key once, right after the Nth session token
                      (the previous key stays published, so earlier tokens still verify)
  --receiver ADDR     also serve a webhook receiver there: POST /NAME records a delivery,
                      GET /dev/received/NAME lists them, PUT /dev/answers/NAME
                      {statuses: [...]} scripts the next answers

Both stand-ins fail on demand: POST /dev/faults {path, method?, status?, ms?, count?,
contains?, seconds?}, DELETE /dev/faults (see the crate's documentation).

Secrets: CLERK_SECRET_KEY, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET (development defaults otherwise).";

fn parse_addr(flag: &str, value: Option<String>) -> Result<SocketAddr, String> {
    let value = value.ok_or(format!("{flag} needs an address"))?;
    value.parse().map_err(|e| format!("{flag} {value}: {e}"))
}

/// The command line, parsed.
struct Options {
    clerk_addr: SocketAddr,
    stripe_addr: SocketAddr,
    webhooks: Vec<String>,
    delivery: Delivery,
    prices: Vec<(String, i64)>,
    state_dir: Option<std::path::PathBuf>,
    client_id: Option<String>,
    rotate_after: Option<u64>,
    receiver_addr: Option<SocketAddr>,
}

/// The options, or `None` for `--help`.
fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        clerk_addr: parse_addr("--clerk", Some("127.0.0.1:8791".into()))?,
        stripe_addr: parse_addr("--stripe", Some("127.0.0.1:8792".into()))?,
        webhooks: Vec::new(),
        delivery: Delivery::default(),
        prices: Vec::new(),
        state_dir: None,
        client_id: None,
        rotate_after: None,
        receiver_addr: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--clerk" => o.clerk_addr = parse_addr("--clerk", args.next())?,
            "--stripe" => o.stripe_addr = parse_addr("--stripe", args.next())?,
            "--webhook" => o.webhooks.push(args.next().ok_or("--webhook needs a URL")?),
            "--price" => {
                let value = args.next().ok_or("--price needs ID:CENTS")?;
                let (id, cents) =
                    value.split_once(':').ok_or(format!("--price {value}: expected ID:CENTS"))?;
                let cents: i64 = cents.parse().map_err(|e| format!("--price {value}: {e}"))?;
                o.prices.push((id.to_string(), cents));
            }
            "--state" => o.state_dir = Some(args.next().ok_or("--state needs a directory")?.into()),
            "--client-id" => o.client_id = Some(args.next().ok_or("--client-id needs an id")?),
            "--deliver-twice" => o.delivery.twice = true,
            "--out-of-order" => o.delivery.reversed = true,
            "--rotate-keys-after-tokens" => {
                let value = args.next().ok_or("--rotate-keys-after-tokens needs a number")?;
                let n = value.parse::<u64>().ok().filter(|n| *n > 0);
                let n =
                    n.ok_or(format!("--rotate-keys-after-tokens {value}: expected a number > 0"))?;
                o.rotate_after = Some(n);
            }
            "--receiver" => o.receiver_addr = Some(parse_addr("--receiver", args.next())?),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(Some(o))
}

async fn run() -> Result<(), String> {
    let Some(Options {
        clerk_addr,
        stripe_addr,
        webhooks,
        delivery,
        prices,
        state_dir,
        client_id,
        rotate_after,
        receiver_addr,
    }) = parse_options(std::env::args().skip(1))?
    else {
        println!("{USAGE}");
        return Ok(());
    };
    // Refuse before anything starts: a stand-in must never be reachable from outside.
    dream_standins::ensure_loopback(clerk_addr)?;
    dream_standins::ensure_loopback(stripe_addr)?;
    if let Some(addr) = receiver_addr {
        dream_standins::ensure_loopback(addr)?;
    }

    let env_or =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    if let Some(dir) = &state_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("--state {dir:?}: {e}"))?;
    }
    let state = |name: &str| StateFile::new(state_dir.as_ref().map(|d| d.join(name)));
    let mut clerk = clerk::Clerk::with_state(
        env_or("CLERK_SECRET_KEY", clerk::DEV_SECRET_KEY),
        format!("http://{clerk_addr}"),
        state("clerk.json"),
    );
    if let Some(n) = rotate_after {
        clerk = clerk.rotating_after(n);
    }
    let stripe = Stripe::new(
        env_or("STRIPE_SECRET_KEY", stripe::DEV_SECRET_KEY),
        env_or("STRIPE_WEBHOOK_SECRET", stripe::DEV_WEBHOOK_SECRET),
        webhooks.clone(),
        format!("http://{stripe_addr}"),
        delivery,
    )
    .with_client_id(client_id.unwrap_or_else(|| env_or("STRIPE_CLIENT_ID", stripe::DEV_CLIENT_ID)))
    .with_state(state("stripe.json"));
    for (id, cents) in &prices {
        stripe.seed_price(id, *cents);
    }
    println!("Clerk stand-in  http://{clerk_addr}  (sign in at http://{clerk_addr}/sign-in)");
    println!(
        "Stripe stand-in http://{stripe_addr}  (webhooks to: {})",
        if webhooks.is_empty() { "none".into() } else { webhooks.join(", ") }
    );
    println!(
        "Stripe Connect  http://{stripe_addr}/oauth/authorize  (client_id {})",
        stripe.client_id()
    );
    let receiving = async {
        match receiver_addr {
            Some(addr) => {
                println!("Webhook receiver http://{addr}/NAME  (what arrived: http://{addr}/dev/received/NAME)");
                serve(addr, receiver::Receiver::default().router()).await
            }
            None => Ok(()),
        }
    };
    tokio::try_join!(
        serve(clerk_addr, clerk.router()),
        serve(stripe_addr, stripe.router()),
        receiving
    )
    .map(|_| ())
}

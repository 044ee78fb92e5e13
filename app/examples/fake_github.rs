//! The tests' fake GitHub as a server of its own, for the browser tests:
//! `fake_github ADDR README WEBHOOK_URL` serves it on ADDR with README on the
//! main branch and sends webhook deliveries to WEBHOOK_URL.

// The browser tests drive only part of it.
#[allow(dead_code)]
#[path = "../tests/fake_github/mod.rs"]
mod fake_github;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, readme, webhook_url] = args.as_slice() else {
        eprintln!("usage: fake_github ADDR README WEBHOOK_URL");
        std::process::exit(2);
    };
    let readme = std::fs::read_to_string(readme).unwrap_or_else(|e| {
        eprintln!("cannot read {readme}: {e}");
        std::process::exit(2);
    });
    let fake = fake_github::FakeGitHub::start(addr, &readme).await;
    fake.send_webhooks_to(webhook_url);
    println!("fake GitHub on {}", fake.url);
    let _ = tokio::signal::ctrl_c().await;
}

//! Measures the rate limiter's memory per tracked client: run with
//! `cargo run --release -p fin-daemon --example limiter_memory`.

use std::time::{Duration, Instant};

use fin_daemon::ratelimit::{Quota, RateLimiter};

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    const CLIENTS: u64 = 1_000_000;
    let limiter = RateLimiter::new(Quota::new(10, Duration::from_secs(1), 20), CLIENTS as usize);
    let before = resident_bytes();
    let started = Instant::now();
    for client in 0..CLIENTS {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + client as u32);
        limiter.check(&ip);
    }
    let elapsed = started.elapsed();
    let after = resident_bytes();
    println!("tracked clients:     {}", limiter.tracked());
    println!(
        "resident growth:     {:.1} MiB",
        (after - before) as f64 / 1_048_576.0
    );
    println!(
        "bytes per client:    {:.1}",
        (after - before) as f64 / limiter.tracked() as f64
    );
    println!(
        "checks per second:   {:.0} (one thread, all new clients)",
        CLIENTS as f64 / elapsed.as_secs_f64()
    );
}

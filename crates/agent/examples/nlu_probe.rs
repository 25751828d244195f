//! Prints the NLU reading of each line on stdin: the intent, its confidence
//! and, for a message with several requests, each clause (a development aid:
//! `cargo run -p hc-agent --example nlu_probe`).

fn main() {
    let nlu = hc_agent::nlu::Nlu::builtin();
    for line in std::io::stdin().lines() {
        let line = line.unwrap();
        let u = nlu.understand(&line);
        println!("== {line}\n  {:?} {:.2}", u.intent, u.confidence);
        for r in &u.requests {
            println!("  - {:?} {:.2} | {}", r.intent, r.confidence, r.text);
        }
    }
}

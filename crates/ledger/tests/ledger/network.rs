//! Programs (earn rules, expiry, tiers, discounts), the merchant network
//! with its settlements, the agent registry with revenue sharing, and
//! per-customer erasure: all on the log, all replayed from it, and a
//! property test of the invariants across merchants and time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hc_ledger::loyalty::{Balances, EarnBasis, Rate, SettlementKey, Tier};
use hc_ledger::{
    AccountId, CustomerKeys, Error, Ledger, LogOptions, Loyalty, LoyaltyOp, Program, Pseudonymizer,
};
use proptest::prelude::*;

use crate::{ORIGIN, signer};

const DAY: u64 = 86_400;
const T0: u64 = 1_750_000_000;

fn open(dir: &std::path::Path, clock: &Arc<AtomicU64>) -> Loyalty {
    let (ledger, _) = Ledger::open(dir, ORIGIN, vec![signer(1)], LogOptions::default()).unwrap();
    let c = clock.clone();
    Loyalty::open(Arc::new(ledger))
        .unwrap()
        .with_clock(move || c.load(Ordering::SeqCst))
}

fn replayed(l: &Loyalty) -> Balances {
    let log = l.ledger().log();
    let entries = log.entries(0..log.size()).unwrap();
    Balances::replay(entries.into_iter().enumerate().map(|(i, e)| (i as u64, e))).unwrap()
}

fn program() -> Program {
    Program {
        currency: "USD".into(),
        earn: Some(Rate {
            points: 1,
            cents: 100,
        }),
        events: [("review".to_string(), 50)].into(),
        campaigns: vec![],
        expiry_days: Some(30),
        tier_window_days: 90,
        tiers: vec![Tier {
            name: "gold".into(),
            threshold: 500,
            earn_multiplier_bp: 20_000,
        }],
        redeem: Some(Rate {
            points: 1,
            cents: 1,
        }),
        max_redeem_bp: 10_000,
    }
}

fn purchase(account: &AccountId, merchant: &str, cents: u64, network: Option<&str>) -> LoyaltyOp {
    LoyaltyOp::Earn {
        account: account.clone(),
        points: 0,
        merchant: Some(merchant.into()),
        network: network.map(Into::into),
        basis: Some(EarnBasis {
            amount_cents: Some(cents),
            ..EarnBasis::default()
        }),
        expires_at: None,
    }
}

fn redeem_at(account: &AccountId, merchant: &str, points: u64) -> LoyaltyOp {
    LoyaltyOp::Redeem {
        account: account.clone(),
        points,
        merchant: Some(merchant.into()),
        discount_cents: None,
        settlements: vec![],
    }
}

fn account(n: &str) -> AccountId {
    Pseudonymizer::new([5; 32]).account("net:coalition", n)
}

#[test]
fn earn_rules_tiers_and_expiry_are_recorded_and_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicU64::new(T0));
    let l = open(dir.path(), &clock);
    let a = account("a");
    l.submit(
        "p1",
        LoyaltyOp::Program {
            merchant: "shop".into(),
            program: program(),
        },
    )
    .unwrap();
    // $300 → 300 points, no tier yet.
    let (_, op) = l
        .submit_op("o1", purchase(&a, "shop", 30_000, None))
        .unwrap();
    let LoyaltyOp::Earn {
        points, expires_at, ..
    } = &op
    else {
        panic!("{op:?}")
    };
    assert_eq!((*points, *expires_at), (300, Some(T0 + 30 * DAY)));
    // Another $300 ten days later: 600 in the window → gold on the next earn.
    clock.store(T0 + 10 * DAY, Ordering::SeqCst);
    l.submit("o2", purchase(&a, "shop", 30_000, None)).unwrap();
    assert_eq!(
        l.read(|s| s.tier("shop", &a, T0 + 10 * DAY)),
        Some(("gold".to_string(), 600))
    );
    let (_, op) = l
        .submit_op("o3", purchase(&a, "shop", 10_000, None))
        .unwrap();
    let LoyaltyOp::Earn { points, basis, .. } = &op else {
        panic!()
    };
    assert_eq!(*points, 200, "gold doubles 100");
    assert_eq!(basis.as_ref().unwrap().tier.as_deref(), Some("gold"));
    assert_eq!(l.balance(&a), 800);

    // Day 31: the first 300 expired. A redemption first writes the expiry.
    clock.store(T0 + 31 * DAY, Ordering::SeqCst);
    assert_eq!(
        l.read(|s| s.available(&a, Some("shop"), T0 + 31 * DAY)),
        500
    );
    let size = l.ledger().log().size();
    // Too much: refused, and the expiry was not written either.
    assert!(matches!(
        l.submit("r1", redeem_at(&a, "shop", 501)),
        Err(Error::InsufficientBalance {
            balance: 500,
            requested: 501
        })
    ));
    assert_eq!(l.ledger().log().size(), size);
    let (r, op) = l.submit_op("r2", redeem_at(&a, "shop", 120)).unwrap();
    assert_eq!(r.index, size + 1, "the expiry entry comes first");
    let LoyaltyOp::Redeem { discount_cents, .. } = op else {
        panic!()
    };
    assert_eq!(discount_cents, Some(120));
    let s = l.snapshot();
    assert_eq!((s.balance(&a), s.expired(), s.redeemed()), (380, 300, 120));
    assert_eq!(s.minted() - s.burned(), s.outstanding());
    // The sweep expires the rest when due.
    clock.store(T0 + 45 * DAY, Ordering::SeqCst);
    assert_eq!(l.expire_due().unwrap(), (1, 380));
    assert_eq!(l.balance(&a), 0);
    assert_eq!(l.expire_due().unwrap(), (0, 0));
    // The window rolled: no tier any more.
    assert_eq!(l.read(|s| s.tier("shop", &a, T0 + 120 * DAY)), None);
    assert_eq!(replayed(&l), l.snapshot());
}

#[test]
fn a_forged_derived_field_on_the_log_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicU64::new(T0));
    let l = open(dir.path(), &clock);
    l.submit(
        "p1",
        LoyaltyOp::Program {
            merchant: "shop".into(),
            program: program(),
        },
    )
    .unwrap();
    let (_, op) = l
        .submit_op("o1", purchase(&a(), "shop", 30_000, None))
        .unwrap();
    let log = l.ledger().log();
    let mut entries: Vec<(u64, Vec<u8>)> = log
        .entries(0..log.size())
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect();
    let text = String::from_utf8(entries[1].1.clone()).unwrap();
    assert!(text.contains("\"points\":300"), "{text} / {op:?}");
    entries[1].1 = text
        .replace("\"points\":300", "\"points\":3000")
        .into_bytes();
    assert!(matches!(
        Balances::replay(entries),
        Err(Error::Corrupt { index: 1, .. })
    ));
    // A caller cannot write forged derived fields either.
    let forged = LoyaltyOp::Earn {
        account: a(),
        points: 9_999,
        merchant: Some("shop".into()),
        network: None,
        basis: Some(EarnBasis {
            amount_cents: Some(100),
            ..EarnBasis::default()
        }),
        expires_at: None,
    };
    let (_, op) = l.submit_op("o2", forged).unwrap();
    assert!(matches!(op, LoyaltyOp::Earn { points: 1, .. }));

    fn a() -> AccountId {
        account("a")
    }
}

fn network_setup(l: &Loyalty) {
    l.submit(
        "n1",
        LoyaltyOp::NetworkCreate {
            network: "coalition".into(),
            operator: "op".into(),
            currency: "USD".into(),
            // A point settles at half a cent.
            rate: Rate {
                points: 2,
                cents: 1,
            },
        },
    )
    .unwrap();
    for m in ["shop-a", "shop-b"] {
        // Joining needs the operator's admission first.
        let join = LoyaltyOp::NetworkJoin {
            network: "coalition".into(),
            merchant: m.into(),
        };
        assert!(l.submit(&format!("j0-{m}"), join.clone()).is_err());
        l.submit(
            &format!("adm-{m}"),
            LoyaltyOp::NetworkAdmit {
                network: "coalition".into(),
                merchant: m.into(),
            },
        )
        .unwrap();
        l.submit(&format!("j-{m}"), join).unwrap();
        l.submit(
            &format!("p-{m}"),
            LoyaltyOp::Program {
                merchant: m.into(),
                program: Program {
                    expiry_days: None,
                    ..program()
                },
            },
        )
        .unwrap();
    }
}

#[test]
fn points_earned_at_one_member_redeem_at_another_and_settle_at_the_network_rate() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicU64::new(T0));
    let l = open(dir.path(), &clock);
    network_setup(&l);
    let a = account("card-1");
    l.submit("e1", purchase(&a, "shop-a", 40_000, Some("coalition")))
        .unwrap();
    l.submit("e2", purchase(&a, "shop-b", 10_000, Some("coalition")))
        .unwrap();
    // A non-member cannot issue network points.
    assert!(
        l.submit("e3", purchase(&a, "shop-c", 100, Some("coalition")))
            .is_err()
    );
    // 450 at shop-b: oldest first → 400 from shop-a (settled), 50 own.
    let (_, op) = l.submit_op("r1", redeem_at(&a, "shop-b", 450)).unwrap();
    let LoyaltyOp::Redeem { settlements, .. } = op else {
        panic!()
    };
    assert_eq!(settlements.len(), 1);
    let s = &settlements[0];
    assert_eq!(
        (s.from.as_str(), s.to.as_str(), s.points, s.cents),
        ("shop-a", "shop-b", 400, 200)
    );
    let key = SettlementKey {
        network: Some("coalition".into()),
        currency: "USD".into(),
        from: "shop-a".into(),
        to: "shop-b".into(),
    };
    let owed: Vec<_> = l.read(|s| s.obligations().map(|(k, v)| (k.clone(), v)).collect());
    assert_eq!(owed, vec![(key, 200)]);
    // shop-a leaves: its remaining network points (200: 500 earned in the
    // window made the card gold) are no longer spendable at shop-b (nobody
    // would settle them), still at shop-a; shop-b's are not spendable at
    // shop-a any more.
    l.submit("e4", purchase(&a, "shop-a", 10_000, Some("coalition")))
        .unwrap();
    l.submit(
        "leave",
        LoyaltyOp::NetworkLeave {
            network: "coalition".into(),
            merchant: "shop-a".into(),
        },
    )
    .unwrap();
    let at = l.now();
    assert_eq!(l.read(|s| s.available(&a, Some("shop-b"), at)), 50);
    assert_eq!(l.read(|s| s.available(&a, Some("shop-a"), at)), 200);
    assert!(matches!(
        l.submit("r2", redeem_at(&a, "shop-b", 51)),
        Err(Error::InsufficientBalance { balance: 50, .. })
    ));
    let snap = l.snapshot();
    assert_eq!(snap.minted() - snap.burned(), snap.outstanding());
    assert_eq!(replayed(&l), snap);
}

#[test]
fn settlement_payments_never_exceed_what_is_owed_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicU64::new(T0));
    let l = open(dir.path(), &clock);
    network_setup(&l);
    let a = account("card-1");
    l.submit("e1", purchase(&a, "shop-a", 40_000, Some("coalition")))
        .unwrap();
    l.submit("r1", redeem_at(&a, "shop-b", 400)).unwrap();
    // shop-a owes shop-b 200 cents.
    let paid = |cents: u64, network: Option<&str>, reference: &str| LoyaltyOp::SettlementPaid {
        from: "shop-a".into(),
        to: "shop-b".into(),
        cents,
        currency: "USD".into(),
        network: network.map(str::to_string),
        reference: reference.into(),
    };
    l.submit("pay1", paid(150, Some("coalition"), "wire-1"))
        .unwrap();
    let size = l.ledger().log().size();
    for (key, op) in [
        ("pay2", paid(51, Some("coalition"), "wire-2")),
        ("pay3", paid(10, None, "wire-3")),
        ("pay4", paid(0, Some("coalition"), "wire-4")),
        ("pay5", paid(10, Some("coalition"), "")),
        ("pay6", paid(10, Some("coalition"), "line\nbreak")),
    ] {
        assert!(l.submit(key, op).is_err(), "{key}");
    }
    assert_eq!(l.ledger().log().size(), size, "refusals write nothing");
    l.submit("pay7", paid(50, Some("coalition"), "wire-7"))
        .unwrap();
    let key = SettlementKey {
        network: Some("coalition".into()),
        currency: "USD".into(),
        from: "shop-a".into(),
        to: "shop-b".into(),
    };
    assert_eq!(l.read(|s| s.outstanding_obligation(&key)), 0);
    assert!(
        l.submit("pay8", paid(1, Some("coalition"), "wire-8"))
            .is_err()
    );
    assert_eq!(replayed(&l), l.snapshot());
}

#[test]
fn a_deployment_names_a_registered_agent_and_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicU64::new(T0));
    let l = open(dir.path(), &clock);
    let deploy = |agent: Option<&str>| LoyaltyOp::AgentDeploy {
        merchant: "shop-a".into(),
        agent: agent.map(str::to_string),
    };
    assert!(matches!(
        l.submit("d0", deploy(Some("ava"))),
        Err(Error::NotFound(_))
    ));
    l.submit(
        "reg",
        LoyaltyOp::AgentRegister {
            agent: "ava".into(),
            owner: "dev-co".into(),
            config_hash: "ab".repeat(32),
        },
    )
    .unwrap();
    l.submit("d1", deploy(Some("ava"))).unwrap();
    assert_eq!(
        l.read(|s| s.deployment("shop-a").map(|(a, t)| (a.to_string(), t))),
        Some(("ava".into(), T0))
    );
    assert!(matches!(
        l.submit("d2", deploy(Some("ava"))),
        Err(Error::Conflict(_))
    ));
    clock.store(T0 + DAY, Ordering::SeqCst);
    l.submit("d3", deploy(None)).unwrap();
    assert!(l.read(|s| s.deployment("shop-a").is_none()));
    assert_eq!(replayed(&l), l.snapshot());
}

#[test]
fn agents_are_registered_rated_transferred_and_share_revenue() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicU64::new(T0));
    let l = open(dir.path(), &clock);
    network_setup(&l);
    let hash = "ab".repeat(32);
    let register = LoyaltyOp::AgentRegister {
        agent: "concierge-1".into(),
        owner: "dev-co".into(),
        config_hash: hash.clone(),
    };
    l.submit("ag1", register.clone()).unwrap();
    assert!(matches!(
        l.submit("ag1b", register),
        Err(Error::Conflict(_))
    ));
    let rep = |start: u64, end: u64, conv: u64, res: u64, sat: u32| LoyaltyOp::AgentReputation {
        agent: "concierge-1".into(),
        period_start: start,
        period_end: end,
        conversations: conv,
        resolved: res,
        satisfaction_permille: Some(sat),
        reputation_permille: 0,
    };
    // 80% resolved, 0.9 satisfaction: 0.6×800 + 0.4×900 = 840.
    l.submit("rep1", rep(T0 - 7 * DAY, T0, 100, 80, 900))
        .unwrap();
    assert_eq!(
        l.read(|s| s.agent("concierge-1").unwrap().reputation_permille),
        Some(840)
    );
    // Overlapping or future periods are refused.
    assert!(l.submit("rep2", rep(T0 - DAY, T0, 10, 5, 500)).is_err());
    assert!(l.submit("rep3", rep(T0, T0 + DAY, 10, 5, 500)).is_err());
    clock.store(T0 + 7 * DAY, Ordering::SeqCst);
    // 50% and 0.5: 500; smoothed (840×7 + 500×3)/10 = 738.
    l.submit("rep4", rep(T0, T0 + 7 * DAY, 10, 5, 500)).unwrap();
    assert_eq!(
        l.read(|s| s.agent("concierge-1").unwrap().reputation_permille),
        Some(738)
    );
    // Shares must add up to 100%, and the network share needs membership.
    let share = |m: u32, d: u32, n: u32, net: Option<&str>| LoyaltyOp::RevenueShare {
        merchant: "shop-a".into(),
        agent: "concierge-1".into(),
        merchant_bp: m,
        developer_bp: d,
        network_bp: n,
        network: net.map(Into::into),
    };
    assert!(l.submit("s0", share(9_000, 900, 0, None)).is_err());
    assert!(l.submit("s1", share(9_000, 500, 500, None)).is_err());
    l.submit("s2", share(9_000, 700, 300, Some("coalition")))
        .unwrap();
    let sale = LoyaltyOp::AgentSale {
        agent: "concierge-1".into(),
        merchant: "shop-a".into(),
        amount_cents: 12_345,
        currency: "USD".into(),
        settlements: vec![],
    };
    let (_, op) = l.submit_op("sale-1", sale.clone()).unwrap();
    let LoyaltyOp::AgentSale { settlements, .. } = op else {
        panic!()
    };
    let got: Vec<_> = settlements
        .iter()
        .map(|s| (s.to.as_str(), s.cents))
        .collect();
    assert_eq!(got, vec![("dev-co", 864), ("op", 370)]);
    // Replaying the same order: no second settlement.
    assert!(l.submit("sale-1", sale.clone()).unwrap().replayed);
    // Ownership moves; the next sale pays the new owner.
    assert!(
        l.submit(
            "t0",
            LoyaltyOp::AgentTransfer {
                agent: "concierge-1".into(),
                from: "someone".into(),
                to: "x".into()
            }
        )
        .is_err()
    );
    l.submit(
        "t1",
        LoyaltyOp::AgentTransfer {
            agent: "concierge-1".into(),
            from: "dev-co".into(),
            to: "new-dev".into(),
        },
    )
    .unwrap();
    let (_, op) = l.submit_op("sale-2", sale).unwrap();
    let LoyaltyOp::AgentSale { settlements, .. } = op else {
        panic!()
    };
    assert_eq!(settlements[0].to, "new-dev");
    assert_eq!(replayed(&l), l.snapshot());
}

#[test]
fn erasing_a_customer_keeps_the_log_verifiable_and_forfeits_the_balance() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicU64::new(T0));
    let l = open(dir.path(), &clock);
    let keys = CustomerKeys::new(keys_dir.path(), [1; 32], Pseudonymizer::new([2; 32]));
    let known = |a: &AccountId| l.read(|s| s.known(a));
    let alice = keys.account("shop", "alice", known).unwrap();
    let bob = keys.account("shop", "bob", known).unwrap();
    l.submit("e1", LoyaltyOp::earn(alice.clone(), 70)).unwrap();
    l.submit("e2", LoyaltyOp::earn(bob.clone(), 30)).unwrap();
    l.ledger().checkpoint().unwrap();
    // Erase alice: forfeit her balance on the log, then delete her key.
    l.submit(
        "erase-1",
        LoyaltyOp::Forfeit {
            account: alice.clone(),
            points: 70,
        },
    )
    .unwrap();
    let e = keys.erase("shop", "alice", known).unwrap();
    assert_eq!(e.account, Some(alice.clone()));
    l.ledger().checkpoint().unwrap();
    assert_eq!(keys.lookup("shop", "alice", known).unwrap(), None);
    assert_ne!(keys.account("shop", "alice", known).unwrap(), alice);
    assert_eq!(keys.account("shop", "bob", known).unwrap(), bob);
    let s = l.snapshot();
    assert_eq!((s.forfeited(), s.outstanding()), (70, 30));
    assert_eq!(replayed(&l), s);
    // The log is untouched: the audit passes against both checkpoints.
    let report = hc_ledger::audit(dir.path(), &[signer(1).verifier()], Some(ORIGIN)).unwrap();
    assert_eq!(report.entries, 3);
    assert!(report.checkpoints_checked >= 2);
    assert_eq!(report.latest.size, 3);
}

#[derive(Debug, Clone)]
enum Step {
    Earn {
        who: usize,
        at: usize,
        cents: u64,
        network: bool,
    },
    Redeem {
        who: usize,
        at: usize,
        points: u64,
    },
    Transfer {
        from: usize,
        to: usize,
        points: u64,
    },
    Wait(u64),
    Sweep,
}

fn step() -> impl Strategy<Value = (Step, u8)> {
    let s = prop_oneof![
        (0usize..3, 0usize..3, 1u64..50_000, any::<bool>()).prop_map(
            |(who, at, cents, network)| {
                Step::Earn {
                    who,
                    at,
                    cents,
                    network,
                }
            }
        ),
        (0usize..3, 0usize..3, 1u64..400).prop_map(|(who, at, points)| Step::Redeem {
            who,
            at,
            points
        }),
        (0usize..3, 0usize..3, 1u64..400).prop_map(|(from, to, points)| Step::Transfer {
            from,
            to,
            points
        }),
        (0u64..20).prop_map(|d| Step::Wait(d * DAY)),
        Just(Step::Sweep),
    ];
    (s, 0u8..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Across merchants, a network, tiers and expiry: no negative balance
    /// (a rejected step changes nothing), no double spend, minted − burned
    /// = outstanding after every step, every settlement matches a
    /// cross-merchant redemption, and replaying the log equals the live state.
    #[test]
    fn invariants_hold_across_merchants_and_time(steps in proptest::collection::vec(step(), 1..50)) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(AtomicU64::new(T0));
        let l = open(dir.path(), &clock);
        network_setup(&l);
        l.submit("p-shop-c", LoyaltyOp::Program { merchant: "shop-c".into(), program: program() }).unwrap();
        let merchants = ["shop-a", "shop-b", "shop-c"];
        let accts: Vec<_> = (0..3).map(|i| account(&format!("c{i}"))).collect();
        let mut settled_points = 0u64;
        for (s, idem) in &steps {
            let before = l.snapshot();
            let size = l.ledger().log().size();
            let key = format!("k{idem}");
            let result = match s {
                Step::Earn { who, at, cents, network } => {
                    let m = merchants[*at];
                    let net = (*network && m != "shop-c").then_some("coalition");
                    l.submit_op(&key, purchase(&accts[*who], m, *cents, net)).map(|r| r.0)
                }
                Step::Redeem { who, at, points } => {
                    l.submit_op(&key, redeem_at(&accts[*who], merchants[*at], *points)).map(|(r, op)| {
                        if let LoyaltyOp::Redeem { settlements, .. } = &op && !r.replayed {
                            settled_points += settlements.iter().map(|s| s.points).sum::<u64>();
                        }
                        r
                    })
                }
                Step::Transfer { from, to, points } => {
                    l.submit(&key, LoyaltyOp::transfer(accts[*from].clone(), accts[*to].clone(), *points))
                }
                Step::Wait(d) => {
                    clock.fetch_add(*d, Ordering::SeqCst);
                    continue;
                }
                Step::Sweep => {
                    l.expire_due().unwrap();
                    let at = l.now();
                    for a in &accts {
                        prop_assert_eq!(l.read(|s| s.due(a, at)), 0);
                    }
                    continue;
                }
            };
            match result {
                Ok(r) if r.replayed => {
                    prop_assert_eq!(l.snapshot(), before.clone());
                    prop_assert_eq!(l.ledger().log().size(), size);
                }
                Ok(r) => {
                    // One entry, or an expiry and the operation.
                    prop_assert!(r.index == size || r.index == size + 1);
                    prop_assert_eq!(l.ledger().log().size(), r.index + 1);
                }
                Err(e) => {
                    prop_assert!(matches!(e, Error::Conflict(_) | Error::InsufficientBalance { .. } | Error::Invalid { .. }), "{e}");
                    prop_assert_eq!(l.snapshot(), before.clone());
                    prop_assert_eq!(l.ledger().log().size(), size);
                }
            }
            let now = l.snapshot();
            prop_assert_eq!(now.minted() - now.burned(), now.outstanding());
        }
        // Every settled point is a point redeemed at a merchant other than
        // its issuer, at the network's rate (2 points a cent).
        let owed: u64 = l.read(|s| s.obligations().map(|(_, c)| c).sum());
        prop_assert!(owed <= settled_points / 2 && owed + 3 * steps.len() as u64 >= settled_points / 2);
        let live = l.snapshot();
        prop_assert_eq!(replayed(&l), live.clone());
        drop(l);
        prop_assert_eq!(open(dir.path(), &clock).snapshot(), live);
    }
}

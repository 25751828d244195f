//! RFC 6962 known answers as published with transparency-dev/merkle (and
//! certificate-transparency-go before it): the eight test leaves, the root for
//! every tree size 1..=8, and inclusion and consistency proofs.

use hc_ledger::merkle::{Hash, Tree, empty_root, hash_leaf, root_from_inclusion_proof};
use hc_ledger::{verify_consistency, verify_inclusion};

fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|s| hex::decode(s).unwrap())
    .collect()
}

fn roots() -> Vec<Hash> {
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    .iter()
    .map(|s| h(s))
    .collect()
}

fn tree() -> Tree {
    Tree::from_leaf_hashes(leaves().iter().map(|l| hash_leaf(l)))
}

/// (leaf index 1-based as published, tree size, proof).
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            3,
            3,
            vec![h(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            )],
        ),
        (
            2,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

#[test]
fn roots_match_the_published_roots_for_every_size() {
    let t = tree();
    for (size, want) in roots().iter().enumerate() {
        assert_eq!(
            &t.root_at(size as u64 + 1).unwrap(),
            want,
            "size {}",
            size + 1
        );
    }
    assert_eq!(
        hex::encode(empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn inclusion_proofs_match_the_published_proofs_and_verify() {
    let t = tree();
    let leaves = leaves();
    for (leaf, size, want) in inclusion_vectors() {
        let index = leaf - 1;
        assert_eq!(
            t.inclusion_proof(index, size).unwrap(),
            want,
            "{leaf}@{size}"
        );
        let root = roots()[size as usize - 1];
        verify_inclusion(
            index,
            size,
            &hash_leaf(&leaves[index as usize]),
            &want,
            &root,
        )
        .unwrap();
    }
}

#[test]
fn consistency_proofs_match_the_published_proofs_and_verify() {
    let t = tree();
    for (old, new, want) in consistency_vectors() {
        assert_eq!(t.consistency_proof(old, new).unwrap(), want, "{old}->{new}");
        let (r1, r2) = (roots()[old as usize - 1], roots()[new as usize - 1]);
        verify_consistency(old, new, &r1, &r2, &want).unwrap();
    }
}

#[test]
fn corrupted_inclusion_proofs_are_rejected() {
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let leaves = leaves();
    for (leaf, size, proof) in inclusion_vectors().into_iter().skip(1) {
        let i = leaf - 1;
        let root = roots()[size as usize - 1];
        let lh = hash_leaf(&leaves[i as usize]);
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (i.wrapping_sub(1), size, root, lh, proof.clone()),
            (i + 1, size, root, lh, proof.clone()),
            (i ^ 2, size, root, lh, proof.clone()),
            (i, size * 2, root, lh, proof.clone()),
            (i, size / 2, root, lh, proof.clone()),
            (i, size, root, hash_leaf(b"WrongLeaf"), proof.clone()),
            (i, size, empty_root(), lh, proof.clone()),
            (i, size, some, lh, proof.clone()),
            (i, size, root, lh, [proof.clone(), vec![root]].concat()),
            (i, size, root, lh, [vec![root], proof.clone()].concat()),
        ];
        for k in 0..proof.len() {
            let mut p = proof.clone();
            p[k][0] ^= 8;
            probes.push((i, size, root, lh, p));
        }
        if !proof.is_empty() {
            probes.push((i, size, root, lh, proof[..proof.len() - 1].to_vec()));
        }
        for (n, (i, s, r, l, p)) in probes.into_iter().enumerate() {
            assert!(
                verify_inclusion(i, s, &l, &p, &r).is_err(),
                "probe {n} for leaf {leaf}@{size} verified"
            );
        }
    }
}

#[test]
fn corrupted_consistency_proofs_are_rejected() {
    let empty = empty_root();
    for (old, new, proof) in consistency_vectors() {
        if proof.is_empty() {
            continue;
        }
        let (r1, r2) = (roots()[old as usize - 1], roots()[new as usize - 1]);
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (old - 1, new, r1, r2, proof.clone()),
            (old + 1, new, r1, r2, proof.clone()),
            (old ^ 2, new, r1, r2, proof.clone()),
            (old, new * 2, r1, r2, proof.clone()),
            (old, new / 2, r1, r2, proof.clone()),
            (old, new, empty, r2, proof.clone()),
            (old, new, r1, empty, proof.clone()),
            (old, new, r2, r1, proof.clone()),
            (old, new, r1, r2, vec![]),
            (old, new, r1, r2, [proof.clone(), vec![r1]].concat()),
            (old, new, r1, r2, [proof.clone(), vec![r2]].concat()),
            (old, new, r1, r2, [vec![r1], proof.clone()].concat()),
            (old, new, r1, r2, [vec![proof[0]], proof.clone()].concat()),
            (old, new, r1, r2, proof[..proof.len() - 1].to_vec()),
        ];
        for k in 0..proof.len() {
            let mut p = proof.clone();
            p[k][0] ^= 16;
            probes.push((old, new, r1, r2, p));
        }
        for (n, (a, b, x, y, p)) in probes.into_iter().enumerate() {
            assert!(
                verify_consistency(a, b, &x, &y, &p).is_err(),
                "probe {n} for {old}->{new} verified"
            );
        }
    }
}

#[test]
fn root_from_proof_matches_for_every_leaf_of_every_size() {
    // Exhaustive over small trees: every generated proof verifies, and the
    // root it implies is the tree's root; every consistency proof verifies.
    let hashes: Vec<Hash> = (0u32..70).map(|i| hash_leaf(&i.to_be_bytes())).collect();
    let t = Tree::from_leaf_hashes(hashes.iter().copied());
    for size in 1..=70u64 {
        let root = t.root_at(size).unwrap();
        for i in 0..size {
            let p = t.inclusion_proof(i, size).unwrap();
            assert_eq!(
                root_from_inclusion_proof(i, size, &hashes[i as usize], &p).unwrap(),
                root
            );
        }
        for old in 0..=size {
            let p = t.consistency_proof(old, size).unwrap();
            verify_consistency(old, size, &t.root_at(old).unwrap(), &root, &p).unwrap();
        }
    }
}

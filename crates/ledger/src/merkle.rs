//! RFC 6962 / RFC 9162 Merkle tree hashing: leaf and node hashes with domain
//! separation (0x00 / 0x01, SHA-256), an in-memory tree of complete subtrees,
//! inclusion and consistency proofs, and their verification.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `SHA-256(0x00 || data)`.
pub fn hash_leaf(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn hash_children(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// A Merkle tree held as its complete, aligned subtrees: `levels[k][i]` is the
/// hash of the 2^k leaves starting at `i * 2^k`. Every other node (on the
/// right edge of a tree of any size) is computed on demand from these.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a tree over the given leaf hashes.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash and every complete subtree it closes.
    pub fn push(&mut self, leaf_hash: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf_hash);
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let n = self.levels[level].len();
            let parent = hash_children(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(index as usize).copied()
    }

    /// The stored hashes of complete subtrees at `level` (2^level leaves each).
    pub fn level(&self, level: usize) -> &[Hash] {
        self.levels.get(level).map_or(&[], |l| l.as_slice())
    }

    /// The root of the first `size` leaves (`size <= self.size()`).
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root());
        }
        Ok(self.subtree(0, size))
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        if self.size() == 0 {
            empty_root()
        } else {
            self.subtree(0, self.size())
        }
    }

    /// RFC 6962 audit path for leaf `index` in the tree of the first `size`
    /// leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        if index >= size {
            return Err(Error::invalid(
                "index",
                format!("leaf {index} is not in a tree of size {size}"),
            ));
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// RFC 6962 consistency proof between the trees of the first `old` and
    /// `new` leaves (`old <= new <= size`). Empty when `old` is 0 or equal to
    /// `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.check_size(new)?;
        if old > new {
            return Err(Error::invalid(
                "size",
                format!("old size {old} is larger than new size {new}"),
            ));
        }
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size() {
            return Err(Error::invalid(
                "size",
                format!("tree size {size} exceeds the log size {}", self.size()),
            ));
        }
        Ok(())
    }

    /// MTH(D[start:end]) for a non-empty range whose left part is aligned as
    /// in RFC 6962's recursion.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            if let Some(h) = self
                .levels
                .get(level)
                .and_then(|l| l.get((start / n) as usize))
            {
                return *h;
            }
        }
        let k = split_point(n);
        hash_children(
            &self.subtree(start, start + k),
            &self.subtree(start + k, end),
        )
    }

    fn path(&self, index: u64, start: u64, end: u64, proof: &mut Vec<Hash>) {
        let n = end - start;
        if n == 1 {
            return;
        }
        let k = split_point(n);
        if index < start + k {
            self.path(index, start, start + k, proof);
            proof.push(self.subtree(start + k, end));
        } else {
            self.path(index, start + k, end, proof);
            proof.push(self.subtree(start, start + k));
        }
    }

    fn subproof(&self, m: u64, start: u64, end: u64, whole: bool, proof: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !whole {
                proof.push(self.subtree(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, proof);
            proof.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, proof);
            proof.push(self.subtree(start, start + k));
        }
    }
}

/// Computes the MTH of a list of leaf hashes (used by audits and tests).
pub fn root_of(leaves: &[Hash]) -> Hash {
    Tree::from_leaf_hashes(leaves.iter().copied()).root()
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<()> {
    let computed = root_from_inclusion_proof(index, size, leaf_hash, proof)?;
    if &computed != root {
        return Err(Error::verification(format!(
            "inclusion proof for leaf {index} gives a root that is not the root of tree size {size}"
        )));
    }
    Ok(())
}

/// The root implied by an inclusion proof.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash> {
    if index >= size {
        return Err(Error::verification(format!(
            "leaf index {index} is beyond tree size {size}"
        )));
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if s_n == 0 {
            return Err(Error::verification("inclusion proof is too long"));
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = hash_children(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = hash_children(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(Error::verification("inclusion proof is too short"));
    }
    Ok(r)
}

/// Verifies a consistency proof between two tree heads (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<()> {
    if old_size > new_size {
        return Err(Error::verification(format!(
            "old size {old_size} is larger than new size {new_size}"
        )));
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(Error::verification(
                "proof between equal sizes must be empty",
            ));
        }
        if old_root != new_root {
            return Err(Error::verification("equal sizes with different roots"));
        }
        return Ok(());
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(Error::verification(
                "proof from the empty tree must be empty",
            ));
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(Error::verification("empty consistency proof"));
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s_n == 0 {
            return Err(Error::verification("consistency proof is too long"));
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = hash_children(c, &fr);
            sr = hash_children(c, &sr);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            sr = hash_children(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(Error::verification("consistency proof is too short"));
    }
    if &fr != old_root {
        return Err(Error::verification(format!(
            "consistency proof does not reproduce the root of size {old_size}"
        )));
    }
    if &sr != new_root {
        return Err(Error::verification(format!(
            "consistency proof does not reproduce the root of size {new_size}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MTH straight from RFC 6962 §2.1, for comparison.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                hash_children(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    proptest! {
        #[test]
        fn tree_roots_equal_the_recursive_definition(n in 0usize..300, old in 0usize..300) {
            let leaves: Vec<Hash> = (0..n as u32).map(|i| hash_leaf(&i.to_le_bytes())).collect();
            let tree = Tree::from_leaf_hashes(leaves.iter().copied());
            prop_assert_eq!(tree.root(), reference_root(&leaves));
            let old = old.min(n);
            prop_assert_eq!(tree.root_at(old as u64).unwrap(), reference_root(&leaves[..old]));
            let proof = tree.consistency_proof(old as u64, n as u64).unwrap();
            prop_assert!(verify_consistency(old as u64, n as u64, &reference_root(&leaves[..old]), &tree.root(), &proof).is_ok());
        }
    }
}

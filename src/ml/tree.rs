//! Regression trees as plain data, shared by the models that grow them and
//! by TreeSHAP ([`super::shap`]): a tree is a list of nodes, each a split
//! `x[feature] <= threshold ? left : right` or a leaf with a value, and a
//! children come after their node (so every walk ends).

use nalgebra::DMatrix;

/// Deepest tree accepted (a boosted tree is at most 64 levels; a forest's
/// trees grow until their leaves are pure, which on 20,000 rows stays far
/// below this).
pub const MAX_DEPTH: usize = 1000;

/// One node: a split (`left` > its own index) or a leaf (`left == 0`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub feature: u32,
    pub threshold: f64,
    pub left: u32,
    pub right: u32,
    pub value: f64,
}

impl Node {
    pub fn leaf(value: f64) -> Node {
        Node {
            feature: 0,
            threshold: 0.0,
            left: 0,
            right: 0,
            value,
        }
    }
    pub fn is_leaf(&self) -> bool {
        self.left == 0
    }
}

/// A tree; its root is node 0.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The value of the leaf row `x` falls in.
    pub fn predict_row(&self, x: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            let n = &self.nodes[i];
            if n.is_leaf() {
                return n.value;
            }
            i = if x[n.feature as usize] <= n.threshold {
                n.left
            } else {
                n.right
            } as usize;
        }
    }

    /// Whether a tree read from a file is whole for `p` features: nodes
    /// present, children after their node and inside the tree, features
    /// below `p`, finite numbers, at most [`MAX_DEPTH`] levels (TreeSHAP
    /// walks a tree recursively).
    pub fn check(&self, field: &str, p: usize) -> std::result::Result<(), String> {
        use super::checked::bad;
        if self.nodes.is_empty() {
            return Err(bad(format!("{field}.nodes"), "no nodes"));
        }
        let len = self.nodes.len();
        for (i, n) in self.nodes.iter().enumerate() {
            let at = format!("{field}.nodes[{i}]");
            if !n.value.is_finite() {
                return Err(bad(format!("{at}.value"), "not a finite number"));
            }
            if n.is_leaf() {
                continue;
            }
            for (name, c) in [("left", n.left), ("right", n.right)] {
                if (c as usize) <= i || (c as usize) >= len {
                    return Err(bad(
                        format!("{at}.{name}"),
                        format!("{c}: a child must come after its node and before {len}"),
                    ));
                }
            }
            if n.feature as usize >= p {
                return Err(bad(
                    format!("{at}.feature"),
                    format!("{}, but there are {p} features", n.feature),
                ));
            }
            if !n.threshold.is_finite() {
                return Err(bad(format!("{at}.threshold"), "not a finite number"));
            }
        }
        // children come after their node, so one forward pass gives depths
        let mut depth = vec![0usize; len];
        for (i, n) in self.nodes.iter().enumerate() {
            if depth[i] > MAX_DEPTH {
                return Err(bad(
                    format!("{field}.nodes[{i}]"),
                    format!("deeper than {MAX_DEPTH} levels"),
                ));
            }
            if !n.is_leaf() {
                depth[n.left as usize] = depth[i] + 1;
                depth[n.right as usize] = depth[i] + 1;
            }
        }
        Ok(())
    }
}

/// f(x) = base + scale * sum_t tree_t(x): a forest (scale 1/T) or boosted
/// trees (the learning rate folded into the leaves: scale 1).
#[derive(Debug, Clone)]
pub struct Ensemble {
    pub trees: Vec<Tree>,
    pub base: f64,
    pub scale: f64,
}

impl Ensemble {
    pub fn predict(&self, x: &DMatrix<f64>) -> Vec<f64> {
        // rows contiguous: the columns of the transpose
        let xt = x.transpose();
        xt.column_iter()
            .map(|row| {
                let row = row.as_slice();
                self.base + self.scale * self.trees.iter().map(|t| t.predict_row(row)).sum::<f64>()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_deeper_than_the_limit_is_refused() {
        // node i splits into a leaf and node i + 2: a chain of splits
        let n = 2 * (MAX_DEPTH + 2) + 1;
        let nodes: Vec<Node> = (0..n)
            .map(|i| {
                if i % 2 == 0 && i + 2 < n {
                    Node {
                        feature: 0,
                        threshold: 0.5,
                        left: (i + 1) as u32,
                        right: (i + 2) as u32,
                        value: 0.0,
                    }
                } else {
                    Node::leaf(1.0)
                }
            })
            .collect();
        let e = Tree { nodes }.check("t", 1).unwrap_err();
        assert!(e.contains("deeper than"), "{e}");
        let short = Tree {
            nodes: vec![
                Node {
                    feature: 0,
                    threshold: 0.5,
                    left: 1,
                    right: 2,
                    value: 0.0,
                },
                Node::leaf(1.0),
                Node::leaf(2.0),
            ],
        };
        short.check("t", 1).unwrap();
        assert_eq!(short.predict_row(&[0.7]), 2.0);
    }
}

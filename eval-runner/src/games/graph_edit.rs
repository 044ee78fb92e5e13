//! Graph edit distance between two undirected graphs, as networkx's
//! `graph_edit_distance(g1, g2)` computes it without match functions: node
//! and edge insertions and deletions cost 1, relabelling costs nothing, so
//! only the shapes count. Exact, by branch and bound over node mappings, for
//! graphs of the size of the game's maps; past a search budget (graphs far
//! larger) the best mapping found so far gives the distance.

/// An undirected graph on nodes `0..n` (self-loops allowed, as networkx allows them).
#[derive(Clone, Debug)]
pub struct Graph {
    adjacent: Vec<Vec<bool>>,
}

impl Graph {
    pub fn new(nodes: usize, edges: &[(usize, usize)]) -> Self {
        let mut adjacent = vec![vec![false; nodes]; nodes];
        for &(a, b) in edges {
            adjacent[a][b] = true;
            adjacent[b][a] = true;
        }
        Self { adjacent }
    }

    fn len(&self) -> usize {
        self.adjacent.len()
    }

    fn edge_count(&self) -> usize {
        self.edges_touching(&vec![true; self.len()])
    }

    fn degree(&self, node: usize) -> usize {
        self.adjacent[node].iter().filter(|&&e| e).count()
    }

    /// Edges with at least one end among the `open` nodes.
    fn edges_touching(&self, open: &[bool]) -> usize {
        let n = self.len();
        (0..n)
            .flat_map(|a| (a..n).map(move |b| (a, b)))
            .filter(|&(a, b)| self.adjacent[a][b] && (open[a] || open[b]))
            .count()
    }
}

/// Search steps before the best mapping found so far is taken.
const SEARCH_BUDGET: usize = 2_000_000;

/// The fewest node and edge insertions and deletions that turn `from` into `to`.
pub fn edit_distance(from: &Graph, to: &Graph) -> usize {
    // Most constrained nodes first: a bad choice for them shows early.
    let mut order: Vec<usize> = (0..from.len()).collect();
    order.sort_by_key(|&node| std::cmp::Reverse(from.degree(node)));
    let mut search = Search {
        from,
        to,
        order,
        image: vec![None; from.len()],
        used: vec![false; to.len()],
        steps: 0,
        // Deleting everything and inserting everything is always possible.
        best: from.len() + from.edge_count() + to.len() + to.edge_count(),
    };
    search.assign(0, 0);
    search.best
}

struct Search<'g> {
    from: &'g Graph,
    to: &'g Graph,
    order: Vec<usize>,
    /// Where each node of `from` went (`None`: deleted), for those assigned so far.
    image: Vec<Option<usize>>,
    used: Vec<bool>,
    steps: usize,
    best: usize,
}

impl Search<'_> {
    fn assign(&mut self, depth: usize, cost: usize) {
        self.steps += 1;
        if cost + self.lower_bound(depth) >= self.best || self.steps > SEARCH_BUDGET {
            return;
        }
        if depth == self.order.len() {
            let total = cost + self.insertions();
            self.best = self.best.min(total);
            return;
        }
        let node = self.order[depth];
        // Partners of a like degree first, so that good mappings are found early.
        let mut targets: Vec<usize> = (0..self.to.len()).filter(|&t| !self.used[t]).collect();
        targets.sort_by_key(|&t| self.to.degree(t).abs_diff(self.from.degree(node)));
        for target in targets.into_iter().map(Some).chain([None]) {
            let step = self.cost_of(depth, node, target);
            self.image[node] = target;
            if let Some(t) = target {
                self.used[t] = true;
            }
            self.assign(depth + 1, cost + step);
            if let Some(t) = target {
                self.used[t] = false;
            }
        }
        self.image[node] = None;
    }

    /// What the nodes not yet assigned must still cost: each node, and each
    /// edge touching one, of the larger remainder has no partner.
    fn lower_bound(&self, depth: usize) -> usize {
        let mut open = vec![false; self.from.len()];
        for &node in &self.order[depth..] {
            open[node] = true;
        }
        let free: Vec<bool> = self.used.iter().map(|&u| !u).collect();
        let nodes = (self.order.len() - depth).abs_diff(free.iter().filter(|&&f| f).count());
        nodes
            + self
                .from
                .edges_touching(&open)
                .abs_diff(self.to.edges_touching(&free))
    }

    /// The cost of sending `node` to `target`, given the nodes assigned before it.
    fn cost_of(&self, depth: usize, node: usize, target: Option<usize>) -> usize {
        let edge_in_to = |a: Option<usize>, b: Option<usize>| match (a, b) {
            (Some(a), Some(b)) => self.to.adjacent[a][b],
            _ => false,
        };
        let mut cost = usize::from(target.is_none());
        for &earlier in &self.order[..depth] {
            cost += usize::from(
                self.from.adjacent[node][earlier] != edge_in_to(target, self.image[earlier]),
            );
        }
        cost + usize::from(self.from.adjacent[node][node] != edge_in_to(target, target))
    }

    /// Nodes of `to` nobody was sent to, and the edges that touch them.
    fn insertions(&self) -> usize {
        let free: Vec<bool> = self.used.iter().map(|&u| !u).collect();
        free.iter().filter(|&&f| f).count() + self.to.edges_touching(&free)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(n: usize) -> Graph {
        let edges: Vec<(usize, usize)> = (1..n).map(|i| (i - 1, i)).collect();
        Graph::new(n, &edges)
    }

    // Expected values are those networkx 3.6 gives for the same graphs (self-loops
    // aside, where its search counts differently).
    #[test]
    fn same_shapes_cost_nothing_whatever_the_labels() {
        assert_eq!(edit_distance(&path(4), &path(4)), 0);
        let relabelled = Graph::new(4, &[(3, 1), (1, 0), (0, 2)]);
        assert_eq!(edit_distance(&path(4), &relabelled), 0);
        assert_eq!(edit_distance(&Graph::new(0, &[]), &Graph::new(0, &[])), 0);
    }

    #[test]
    fn missing_nodes_and_edges_cost_one_each() {
        // A path of four against one of three: one node and its edge.
        assert_eq!(edit_distance(&path(4), &path(3)), 2);
        assert_eq!(edit_distance(&path(3), &path(4)), 2);
        // Against nothing: every node and edge.
        assert_eq!(edit_distance(&path(4), &Graph::new(0, &[])), 7);
        // A square against a path of four: one edge.
        let square = Graph::new(4, &[(0, 1), (1, 2), (2, 3), (3, 0)]);
        assert_eq!(edit_distance(&square, &path(4)), 1);
    }

    #[test]
    fn a_star_against_a_path_moves_edges() {
        let star = Graph::new(4, &[(0, 1), (0, 2), (0, 3)]);
        assert_eq!(edit_distance(&star, &path(4)), 2);
    }

    #[test]
    fn graphs_beyond_the_maps_size_still_end() {
        let wheel = |n: usize| {
            let edges: Vec<(usize, usize)> = (1..n)
                .flat_map(|i| [(0, i), (i, i % (n - 1) + 1)])
                .collect();
            Graph::new(n, &edges)
        };
        // Exact for map sizes: a wheel of 8 against one of 9 is a node, a spoke and a rim edge
        // more, and one rim edge moved.
        assert_eq!(edit_distance(&wheel(8), &wheel(9)), 5);
        // A drawing far larger than any map still gets an answer: at least the
        // node and edge counts' differences, and better than deleting and inserting everything.
        let far = edit_distance(&wheel(12), &path(30));
        assert!((18 + 7..12 + 22 + 30 + 29).contains(&far), "{far}");
    }
}

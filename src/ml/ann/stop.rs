//! scikit-learn's `n_iter_no_change` rule around any argmin solver: stop
//! after `n` iterations in a row whose loss is not below the best so far
//! minus `tol`. argmin's L-BFGS has no such rule of its own.

use argmin::core::{Error, IterState, KV, Problem, Solver, TerminationReason, TerminationStatus};

pub(super) struct Patience<S> {
    inner: S,
    tol: f64,
    n: u64,
    best: f64,
    without: u64,
}

impl<S> Patience<S> {
    pub fn new(inner: S, tol: f64, n: u64) -> Self {
        Patience {
            inner,
            tol,
            n,
            best: f64::INFINITY,
            without: 0,
        }
    }
}

type St = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

impl<O, S: Solver<O, St>> Solver<O, St> for Patience<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn init(&mut self, problem: &mut Problem<O>, state: St) -> Result<(St, Option<KV>), Error> {
        self.inner.init(problem, state)
    }
    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: St,
    ) -> Result<(St, Option<KV>), Error> {
        let (state, kv) = self.inner.next_iter(problem, state)?;
        let cost = state.get_cost();
        if cost > self.best - self.tol {
            self.without += 1;
        } else {
            self.without = 0;
        }
        self.best = self.best.min(cost);
        Ok((state, kv))
    }
    fn terminate(&mut self, state: &St) -> TerminationStatus {
        if self.without >= self.n {
            return TerminationStatus::Terminated(TerminationReason::SolverConverged);
        }
        self.inner.terminate(state)
    }
}

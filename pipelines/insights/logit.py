"""MAP logistic regression with Gaussian priors, fast enough to refit in a bootstrap."""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["Design", "fit_logit", "fit_logit_many", "sigmoid"]


def sigmoid(eta: np.ndarray) -> np.ndarray:
    """Logistic function, written with tanh so that it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * eta))


class Design:
    """A fixed design matrix with fast products for repeated Newton fits (the bootstrap).

    Dense matrices use BLAS. Sparse ones (a response mentions a few themes) keep the CSR
    matrix for ``x @ b`` / ``x.T @ v`` and precompute, for X'WX, the list of column pairs that
    co-occur in each row, so the weighted Gram matrix is one ``bincount``.
    """

    def __init__(self, x: np.ndarray | sparse.spmatrix | sparse.sparray) -> None:
        self.shape = x.shape
        self.sparse = sparse.issparse(x)
        self._pairs: sparse.csr_matrix | None = None
        if not self.sparse:
            self.x = np.asarray(x, dtype=float)
            self.xt = self.x.T
            return
        csr = sparse.csr_matrix(x, dtype=float)
        csr.sort_indices()
        self.x, self.xt = csr, csr.T.tocsr()
        p = self.shape[1]
        nnz = np.diff(csr.indptr)
        rows, flat, vals = [], [], []
        for m in np.unique(nnz[nnz > 0]):
            which = np.flatnonzero(nnz == m)
            starts = csr.indptr[which][:, None] + np.arange(m)
            idx, val = csr.indices[starts], csr.data[starts]
            rows.append(np.repeat(which, m * m))
            flat.append((idx[:, :, None] * p + idx[:, None, :]).ravel())
            vals.append((val[:, :, None] * val[:, None, :]).ravel())
        self.pair_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        self.pair_flat = np.concatenate(flat) if flat else np.zeros(0, dtype=np.int64)
        self.pair_vals = np.concatenate(vals) if vals else np.zeros(0)

    def gram_many(self, w: np.ndarray) -> np.ndarray:
        """``x.T @ diag(w[r]) @ x`` for every row ``r`` of ``w`` (reps x rows): reps x p x p."""
        p = self.shape[1]
        if not self.sparse:
            return np.stack([self.gram(row) for row in w])
        if self._pairs is None:  # (p*p) x rows: one sparse product sums every rep's pairs at once
            self._pairs = sparse.csr_matrix(
                (self.pair_vals, (self.pair_flat, self.pair_rows)), shape=(p * p, self.shape[0])
            )
        return np.asarray(self._pairs @ w.T).T.reshape(len(w), p, p)

    def __matmul__(self, b: np.ndarray) -> np.ndarray:
        return self.x @ b

    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        """``x.T @ v``."""
        return self.xt @ v

    def gram(self, w: np.ndarray) -> np.ndarray:
        """``x.T @ diag(w) @ x`` as a dense array."""
        if not self.sparse:
            return (self.x * w[:, None]).T @ self.x
        p = self.shape[1]
        weights = w[self.pair_rows] * self.pair_vals
        return np.bincount(self.pair_flat, weights=weights, minlength=p * p).reshape(p, p)


def fit_logit(
    x: np.ndarray | sparse.spmatrix | sparse.sparray | Design,
    y: np.ndarray,
    weights: np.ndarray,
    prior_precision: np.ndarray,
    start: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> np.ndarray:
    """MAP logistic regression with independent Gaussian priors (Newton-Raphson, step halving).

    Args:
        x: design matrix, dense, scipy.sparse or a :class:`Design` (include an intercept
            column; its prior precision should be 0).
        y: 0/1 outcome per row.
        weights: frequency weight per row (bootstrap counts, or collapsed covariate patterns).
        prior_precision: 1 / prior variance per coefficient.
        start: starting coefficients (warm start for the bootstrap).
        max_iter: Newton iterations at most.
        tol: convergence tolerance on the largest coefficient change.

    Returns:
        The coefficient vector.
    """
    design = x if isinstance(x, Design) else Design(x)
    beta = np.zeros(design.shape[1]) if start is None else start.astype(float).copy()
    lam = np.asarray(prior_precision, dtype=float)
    ridge = np.diag(lam) + 1e-9 * np.eye(design.shape[1])

    def objective(b: np.ndarray) -> float:
        eta = design @ b
        return float(np.sum(weights * (y * eta - np.logaddexp(0.0, eta))) - 0.5 * np.sum(lam * b * b))

    current = objective(beta)
    for _ in range(max_iter):
        mu = sigmoid(design @ beta)
        grad = design.rmatvec(weights * (y - mu)) - lam * beta
        step = np.linalg.solve(design.gram(weights * mu * (1 - mu)) + ridge, grad)
        t = 1.0
        while True:
            candidate = beta + t * step
            value = objective(candidate)
            if value >= current - 1e-12 or t < 1e-6:
                break
            t /= 2
        beta, current = candidate, value
        if np.max(np.abs(t * step)) < tol:
            break
    return beta


def fit_logit_many(
    design: Design,
    y: np.ndarray,
    weights: np.ndarray,
    prior_precision: np.ndarray,
    start: np.ndarray,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> np.ndarray:
    """:func:`fit_logit` for many weight vectors at once (the bootstrap's resamples): reps x p.

    Row ``r`` is the fit of ``weights[r]`` from ``start``, with :func:`fit_logit`'s own steps:
    each fit takes its Newton steps, halves them, and stops, on its own; the fits still running
    share one matrix product per step instead of one Python loop each. The coefficients equal
    :func:`fit_logit`'s up to floating-point rounding (the products sum in another order).
    """
    w = np.asarray(weights, dtype=float)
    reps, p = len(w), design.shape[1]
    lam = np.asarray(prior_precision, dtype=float)
    ridge = np.diag(lam) + 1e-9 * np.eye(p)
    beta = np.tile(np.asarray(start, dtype=float), (reps, 1))

    def objective(b: np.ndarray, wr: np.ndarray) -> np.ndarray:
        eta = (design @ b.T).T  # reps x rows
        return np.sum(wr * (y * eta - np.logaddexp(0.0, eta)), axis=1) - 0.5 * np.sum(lam * b * b, axis=1)

    current = objective(beta, w)
    running = np.arange(reps)
    for _ in range(max_iter):
        if not len(running):
            break
        b, wr = beta[running], w[running]
        mu = sigmoid((design @ b.T).T)
        grad = design.rmatvec((wr * (y - mu)).T).T - lam * b
        hessian = design.gram_many(wr * mu * (1 - mu)) + ridge
        step = np.linalg.solve(hessian, grad[:, :, None])[:, :, 0]
        t = np.ones(len(running))
        candidate, value = b + step, objective(b + step, wr)
        halving = ~(value >= current[running] - 1e-12)
        while halving.any():
            t[halving] /= 2
            idx = np.flatnonzero(halving)
            candidate[idx] = b[idx] + t[idx, None] * step[idx]
            value[idx] = objective(candidate[idx], wr[idx])
            halving[idx] = ~((value[idx] >= current[running][idx] - 1e-12) | (t[idx] < 1e-6))
        beta[running], current[running] = candidate, value
        running = running[np.max(np.abs(t[:, None] * step), axis=1) >= tol]
    return beta

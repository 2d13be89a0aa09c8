#!/usr/bin/env python3
"""Generate golden fixtures for tfjs-norms from PyTorch (float64 oracle).

Usage (from the repo root):  python scripts/gen_fixtures.py
Writes test/fixtures/{batch_norm,layer_norm,group_norm,instance_norm}.json.
See scripts/FIXTURES.md for the file format and the covered cases.

Everything is deterministic: each case seeds its own numpy Generator from a
CRC32 of the case name, so adding/removing a case does not change the others.
"""

import json
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "test", "fixtures")
GENERATOR = "scripts/gen_fixtures.py"

# (activation, alpha) pairs; None means "option not given" (JS default).
ACTS = [
    (None, None),  # default -> linear
    ("linear", None),
    ("relu", None),
    ("leakyRelu", 0.2),
    ("leakyRelu", None),  # default slope 0.01
    ("elu", None),  # default alpha 1.0
    ("elu", 0.5),
    ("elu", 1.0),
]
DEFAULT_ALPHA = {"leakyRelu": 0.01, "elu": 1.0}
DEFAULT_EPS = 1e-5
# "shifted" cases use x = SHIFT + 0.01 * noise.  The oracle subtracts SHIFT
# (exact in float64 for float32 inputs) before calling torch: every op here
# is shift-invariant, and some torch float64 kernels otherwise lose ~1e-6.
SHIFT = 1000.0


# --------------------------------------------------------------------------
# serialization helpers
# --------------------------------------------------------------------------

def f32_to_json(v):
    """Shortest decimal that still maps back to the same float32 when parsed
    as a double and rounded to float32 (what JS Float32Array does)."""
    f = np.float32(v)
    short = float(str(f))  # numpy's shortest float32 repr, parsed as double
    if np.float32(short) == f:
        return short
    return float(f)  # exact value of the float32 as a double (always safe)


def enc_input(arr):
    arr = np.asarray(arr, dtype=np.float32)
    assert np.all(np.isfinite(arr))
    return {"shape": list(arr.shape), "data": [f32_to_json(v) for v in arr.ravel()]}


def enc_expected(t):
    if t is None:
        return None
    a = t.detach().cpu().numpy().astype(np.float64) if torch.is_tensor(t) else np.asarray(t, np.float64)
    assert np.all(np.isfinite(a)), "non-finite expected value"
    return {"shape": list(a.shape), "data": [float(f"{v:.10g}") for v in a.ravel()]}


def enc_opt(arr):
    """enc_input, or None for an input the case does not pass."""
    return None if arr is None else enc_input(arr)


def norm_case_dict(x_np, gamma_np, beta_np, dy_np, y, dx, dgamma, dbeta, mean_np=None, var_np=None,
                   bmean=None, bvar=None, dmean=None, dvar=None):
    """The case layout shared by batchNorm, layerNorm, groupNorm and instanceNorm (FIXTURES.md)."""
    return {
        "inputs": {
            "x": enc_input(x_np),
            "gamma": enc_opt(gamma_np),
            "beta": enc_opt(beta_np),
            "mean": enc_opt(mean_np),
            "variance": enc_opt(var_np),
            "dy": enc_input(dy_np),
        },
        "expected": {
            "y": enc_expected(y),
            "mean": enc_expected(bmean),
            "variance": enc_expected(bvar),
            "dx": enc_expected(dx),
            "dgamma": enc_expected(dgamma),
            "dbeta": enc_expected(dbeta),
            "dmean": enc_expected(dmean),
            "dvariance": enc_expected(dvar),
        },
    }


# --------------------------------------------------------------------------
# generic helpers
# --------------------------------------------------------------------------

def to_cf(t, fmt):
    """NHWC (channel last) -> channels-first; identity for NCHW / rank 2."""
    r = t.dim()
    if fmt == "NCHW" or r == 2:
        return t
    return t.permute(0, r - 1, *range(1, r - 1))


def from_cf(t, fmt):
    r = t.dim()
    if fmt == "NCHW" or r == 2:
        return t
    return t.permute(0, *range(2, r), 1)


def apply_act(z, act, alpha):
    if act is None or act == "linear":
        return z
    if act == "relu":
        return F.relu(z)
    a = DEFAULT_ALPHA[act] if alpha is None else alpha
    if act == "leakyRelu":
        return F.leaky_relu(z, negative_slope=a)
    if act == "elu":
        return F.elu(z, alpha=a)
    raise ValueError(act)


def channel_axis(rank, fmt):
    return 1 if (fmt == "NCHW" or rank == 2) else rank - 1


class Gen:
    def __init__(self, name, attempt):
        seed = (zlib.crc32(name.encode()) + 7919 * attempt) & 0xFFFFFFFF
        self.rng = np.random.default_rng(seed)

    def normal(self, shape, scale=1.0, loc=0.0):
        return (loc + scale * self.rng.standard_normal(shape)).astype(np.float32)

    def uniform(self, shape, lo, hi):
        return self.rng.uniform(lo, hi, size=shape).astype(np.float32)

    def x(self, shape, shifted):
        if shifted:
            noise = self.rng.standard_normal(shape).astype(np.float32)
            return (np.float32(SHIFT) + np.float32(0.01) * noise).astype(np.float32)
        # slight offset/scale so that statistics are not trivially 0/1
        return self.normal(shape, scale=1.5, loc=0.3)


def dbl(a, requires_grad=True):
    if a is None:
        return None
    return torch.from_numpy(np.asarray(a, np.float32)).double().requires_grad_(requires_grad)


def vjp(y, dy, leaves):
    """Gradients of sum(y * dy) w.r.t. leaves (None entries stay None)."""
    present = [t for t in leaves if t is not None]
    grads = torch.autograd.grad((y * dy).sum(), present, allow_unused=True)
    out, it = [], iter(grads)
    for t in leaves:
        if t is None:
            out.append(None)
        else:
            g = next(it)
            out.append(torch.zeros_like(t) if g is None else g)
    return out


def make_opts(training=None, fmt=None, eps=None, act=None, alpha=None, groups=None, axes=None):
    return {
        "training": training,
        "dataFormat": fmt,
        "epsilon": eps,
        "activation": act,
        "alpha": alpha,
        "groups": groups,
        "axes": axes,
    }


def pick_affine(g, c_shape, affine):
    """affine: True/False/'gamma'/'beta'."""
    gamma = beta = None
    if affine in (True, "gamma"):
        gamma = g.normal(c_shape, scale=0.5, loc=1.0)
    if affine in (True, "beta"):
        beta = g.normal(c_shape, scale=0.5)
    return gamma, beta


def affine_inputs(g, shape, c_shape, affine, shifted):
    """x, then gamma/beta, then dy drawn in that order (each case's RNG stream depends on it), as
    float32 arrays and as float64 tensors (x, gamma, beta require grad; dy does not)."""
    x_np = g.x(shape, shifted)
    gamma_np, beta_np = pick_affine(g, c_shape, affine)
    dy_np = g.normal(shape)
    return (x_np, gamma_np, beta_np, dy_np), (dbl(x_np), dbl(gamma_np), dbl(beta_np), dbl(dy_np, False))


def kink_ok(z, act, thr):
    """Reject draws where a pre-activation sits too close to the kink at 0,
    where float32 rounding in JS could flip the branch (and the gradient)."""
    if act is None or act == "linear":
        return True
    return float(z.detach().abs().min()) >= thr


def build_case(name, op, opts, fn, act, kink_thr):
    """fn(gen) -> (z_preact, case_dict); retried with a new seed while a
    pre-activation lies within kink_thr of 0."""
    for attempt in range(100):
        g = Gen(name, attempt)
        z, case = fn(g)
        if kink_ok(z, act, kink_thr):
            return {"name": name, "op": op, "opts": opts, **case}
    raise RuntimeError(f"could not draw inputs away from the kink for {name}")


# --------------------------------------------------------------------------
# batchNorm
# --------------------------------------------------------------------------

def bn_case(name, shape, training, fmt, affine=True, eps=DEFAULT_EPS, act=None, alpha=None,
            shifted=False, fmt_given=True, eps_given=True):
    rank = len(shape)
    cax = channel_axis(rank, fmt)
    C = shape[cax]
    eps_v = DEFAULT_EPS if eps is None else eps
    kthr = 0.05 if shifted else 1e-3
    opts = make_opts(training=training, fmt=fmt if fmt_given else None,
                     eps=eps if eps_given else None, act=act, alpha=alpha)
    if not eps_given:
        eps_v = DEFAULT_EPS

    def fn(g):
        x_np = g.x(shape, shifted)
        gamma_np, beta_np = pick_affine(g, [C], affine)
        mean_np = var_np = None
        if not training:
            mean_np = g.normal([C], scale=0.5, loc=SHIFT if shifted else 0.2)
            var_np = g.uniform([C], 0.3, 2.5)
        dy_np = g.normal(shape)

        x = dbl(x_np)
        gamma, beta = dbl(gamma_np), dbl(beta_np)
        mean, var = dbl(mean_np), dbl(var_np)
        dy = dbl(dy_np, False)
        off = SHIFT if shifted else 0.0
        xc = to_cf(x - off, fmt)
        bshape = [1, C] + [1] * (rank - 2)
        red = [d for d in range(rank) if d != 1]

        if training:
            zc = F.batch_norm(xc, None, None, weight=gamma, bias=beta, training=True, eps=eps_v)
            bmean = xc.detach().mean(dim=red) + off
            bvar = xc.detach().var(dim=red, unbiased=False)
            # cross-check against torch's own saved statistics
            _, smean, sinvstd = torch.native_batch_norm(
                xc.detach(), None, None, None, None, True, 0.0, eps_v)
            assert torch.allclose(smean + off, bmean, rtol=1e-12, atol=1e-12)
            assert torch.allclose(sinvstd, 1.0 / torch.sqrt(bvar + eps_v), rtol=1e-10, atol=0)
        else:
            zc = (xc - (mean - off).view(bshape)) / torch.sqrt(var.view(bshape) + eps_v)
            if gamma is not None:
                zc = zc * gamma.view(bshape)
            if beta is not None:
                zc = zc + beta.view(bshape)
            ref = F.batch_norm(xc.detach(), mean.detach() - off, var.detach(),
                               weight=None if gamma is None else gamma.detach(),
                               bias=None if beta is None else beta.detach(),
                               training=False, eps=eps_v)
            assert torch.allclose(zc.detach(), ref, rtol=1e-10, atol=1e-10), name
            bmean = bvar = None
        yc = apply_act(zc, act, alpha)
        y = from_cf(yc, fmt)
        z = from_cf(zc, fmt)
        dx, dgamma, dbeta, dmean, dvar = vjp(y, dy, [x, gamma, beta, mean, var])
        case = norm_case_dict(x_np, gamma_np, beta_np, dy_np, y, dx, dgamma, dbeta, mean_np, var_np,
                              bmean, bvar, None if training else dmean, None if training else dvar)
        return z, case

    return build_case(name, "batchNorm", opts, fn, act, kthr)


def batch_norm_cases():
    cases = []
    shapes = {
        "NHWC": {2: [7, 5], 3: [3, 4, 5], 4: [2, 3, 4, 5], 5: [2, 3, 2, 4, 5]},
        "NCHW": {2: [7, 5], 3: [3, 5, 4], 4: [2, 5, 3, 4], 5: [2, 5, 3, 2, 4]},
    }
    offsets = {(True, "NHWC"): 0, (True, "NCHW"): 3, (False, "NHWC"): 5, (False, "NCHW"): 6}
    for training in (True, False):
        for fmt in ("NHWC", "NCHW"):
            for ri, rank in enumerate((2, 3, 4, 5)):
                for ai, affine in enumerate((True, False)):
                    act, alpha = ACTS[(ri * 2 + ai + offsets[(training, fmt)]) % len(ACTS)]
                    # epsilon variants: rank 3 affine-off uses 1e-3, rank 5 affine-on
                    # leaves epsilon unset (default 1e-5)
                    eps, eps_given = DEFAULT_EPS, True
                    if rank == 3 and not affine:
                        eps = 1e-3
                    if rank == 5 and affine:
                        eps, eps_given = None, False
                    name = "bn_{}_{}_r{}_{}_{}".format(
                        "train" if training else "infer", fmt.lower(), rank,
                        "affine" if affine else "noaffine", act_tag(act, alpha))
                    name += eps_tag(eps, eps_given)
                    cases.append(bn_case(name, shapes[fmt][rank], training, fmt, affine,
                                         eps=eps, act=act, alpha=alpha, eps_given=eps_given))
    # odd sizes / edges
    cases += [
        bn_case("bn_train_nhwc_r4_c1_relu", [2, 3, 4, 1], True, "NHWC", act="relu"),
        bn_case("bn_train_nchw_r2_c1_linear", [6, 1], True, "NCHW", act="linear"),
        bn_case("bn_infer_nhwc_r2_c1_elu", [4, 1], False, "NHWC", act="elu"),
        bn_case("bn_infer_nchw_r3_c1_noaffine", [3, 1, 4], False, "NCHW", affine=False),
        bn_case("bn_train_nhwc_r2_c130_leakyrelu0.2", [4, 130], True, "NHWC",
                act="leakyRelu", alpha=0.2),
        bn_case("bn_train_nchw_r3_c130_elu0.5", [2, 130, 3], True, "NCHW", act="elu", alpha=0.5),
        bn_case("bn_infer_nchw_r4_c130_n1_relu", [1, 130, 2, 2], False, "NCHW", act="relu"),
        bn_case("bn_infer_nhwc_r3_c130_noaffine", [2, 2, 130], False, "NHWC", affine=False),
        bn_case("bn_train_nchw_r4_n1_elu", [1, 3, 4, 5], True, "NCHW", act="elu"),
        bn_case("bn_train_nhwc_r4_n1_leakyrelu", [1, 4, 5, 3], True, "NHWC", act="leakyRelu"),
        bn_case("bn_train_nhwc_r5_n1_noaffine", [1, 2, 3, 2, 4], True, "NHWC", affine=False),
        bn_case("bn_infer_nhwc_r4_n1_relu", [1, 4, 5, 3], False, "NHWC", act="relu"),
        bn_case("bn_train_nchw_r4_eps1e-3_relu", [2, 4, 3, 3], True, "NCHW", eps=1e-3, act="relu"),
        bn_case("bn_infer_nhwc_r4_eps1e-3_leakyrelu0.2", [2, 3, 3, 4], False, "NHWC", eps=1e-3,
                act="leakyRelu", alpha=0.2),
        # dataFormat not given -> default NHWC
        bn_case("bn_train_defaultfmt_r4_affine", [2, 3, 4, 5], True, "NHWC", fmt_given=False),
        bn_case("bn_infer_defaultfmt_r3_elu", [3, 4, 5], False, "NHWC", fmt_given=False, act="elu"),
        # only one of gamma / beta given
        bn_case("bn_train_nhwc_r3_gammaonly", [3, 4, 5], True, "NHWC", affine="gamma"),
        bn_case("bn_train_nchw_r4_betaonly_relu", [2, 5, 3, 4], True, "NCHW", affine="beta",
                act="relu"),
        bn_case("bn_infer_nchw_r4_gammaonly", [2, 5, 3, 4], False, "NCHW", affine="gamma"),
        bn_case("bn_infer_nhwc_r2_betaonly", [6, 4], False, "NHWC", affine="beta"),
        # cancellation check: x = 1000 + 0.01 * noise
        bn_case("bn_train_nhwc_r4_shifted", [2, 4, 4, 3], True, "NHWC", shifted=True),
        bn_case("bn_train_nchw_r3_shifted_relu", [4, 3, 8], True, "NCHW", shifted=True, act="relu"),
        bn_case("bn_infer_nhwc_r3_shifted", [2, 4, 3], False, "NHWC", shifted=True),
    ]
    return cases


def eps_tag(eps, eps_given):
    if not eps_given:
        return "_defaulteps"
    return "" if eps == DEFAULT_EPS else f"_eps{eps:g}"


def act_tag(act, alpha):
    if act is None:
        return "defaultact"
    tag = act.lower()
    if alpha is not None:
        tag += f"{alpha:g}"
    return tag


# --------------------------------------------------------------------------
# layerNorm
# --------------------------------------------------------------------------

def ln_case(name, shape, axes, affine=True, eps=DEFAULT_EPS, eps_given=True, shifted=False):
    rank = len(shape)
    norm_axes = sorted(a % rank for a in axes)
    k = len(norm_axes)
    assert norm_axes == list(range(rank - k, rank)), "layerNorm axes must be trailing"
    nshape = list(shape[rank - k:])
    eps_v = eps if eps_given else DEFAULT_EPS
    opts = make_opts(eps=eps if eps_given else None, axes=list(axes))

    def fn(g):
        (x_np, gamma_np, beta_np, dy_np), (x, gamma, beta, dy) = affine_inputs(g, shape, nshape, affine, shifted)
        y = F.layer_norm(x - (SHIFT if shifted else 0.0), nshape, weight=gamma, bias=beta, eps=eps_v)
        dx, dgamma, dbeta = vjp(y, dy, [x, gamma, beta])
        case = norm_case_dict(x_np, gamma_np, beta_np, dy_np, y, dx, dgamma, dbeta)
        return y, case

    return build_case(name, "layerNorm", opts, fn, None, None)


def layer_norm_cases():
    cases = []
    shapes = {2: [5, 6], 3: [3, 4, 5], 4: [2, 3, 4, 5], 5: [2, 2, 3, 2, 4]}
    axes_opts = {1: [-1], 2: [-2, -1], 3: [-3, -2, -1]}
    i = 0
    for rank in (2, 3, 4, 5):
        for k in (1, 2, 3):
            if k > rank:
                continue
            for affine in (True, False):
                eps, eps_given = DEFAULT_EPS, True
                if i % 5 == 3:
                    eps = 1e-3
                if i % 7 == 5:
                    eps, eps_given = None, False
                i += 1
                name = "ln_r{}_axes{}_{}".format(rank, k, "affine" if affine else "noaffine")
                name += eps_tag(eps, eps_given)
                cases.append(ln_case(name, shapes[rank], axes_opts[k], affine, eps, eps_given))
    cases += [
        ln_case("ln_r2_d1_affine", [4, 1], [-1]),
        ln_case("ln_r3_d1_noaffine", [2, 3, 1], [-1], affine=False),
        ln_case("ln_r2_d130_affine", [3, 130], [-1]),
        ln_case("ln_r3_d130_axes2_noaffine", [2, 2, 130], [-2, -1], affine=False),
        ln_case("ln_r3_axes1_n1", [1, 1, 7], [-1]),
        # positive (trailing) axes
        ln_case("ln_r4_axespos23_affine", [2, 3, 4, 5], [2, 3]),
        ln_case("ln_r2_shifted", [4, 16], [-1], shifted=True),
        ln_case("ln_r3_axes2_shifted_noaffine", [2, 4, 6], [-2, -1], affine=False, shifted=True),
    ]
    return cases


# --------------------------------------------------------------------------
# groupNorm / instanceNorm
# --------------------------------------------------------------------------

def gn_like_case(op, name, shape, fmt, groups=None, affine=True, eps=DEFAULT_EPS, act=None,
                 alpha=None, shifted=False, fmt_given=True, eps_given=True):
    rank = len(shape)
    C = shape[channel_axis(rank, fmt)]
    eps_v = eps if eps_given else DEFAULT_EPS
    kthr = 0.05 if shifted else 1e-3
    opts = make_opts(fmt=fmt if fmt_given else None, eps=eps if eps_given else None,
                     act=act, alpha=alpha, groups=groups if op == "groupNorm" else None)

    def fn(g):
        (x_np, gamma_np, beta_np, dy_np), (x, gamma, beta, dy) = affine_inputs(g, shape, [C], affine, shifted)
        xc = to_cf(x - (SHIFT if shifted else 0.0), fmt)
        if op == "groupNorm":
            zc = F.group_norm(xc, groups, weight=gamma, bias=beta, eps=eps_v)
        else:
            zc = F.instance_norm(xc, None, None, weight=gamma, bias=beta,
                                 use_input_stats=True, eps=eps_v)
        y = from_cf(apply_act(zc, act, alpha), fmt)
        z = from_cf(zc, fmt)
        dx, dgamma, dbeta = vjp(y, dy, [x, gamma, beta])
        case = norm_case_dict(x_np, gamma_np, beta_np, dy_np, y, dx, dgamma, dbeta)
        return z, case

    return build_case(name, op, opts, fn, act, kthr)


def group_norm_cases():
    cases = []
    shapes = {
        "NHWC": {2: [4, 6], 3: [2, 5, 6], 4: [2, 3, 4, 6], 5: [2, 2, 3, 2, 6]},
        "NCHW": {2: [4, 6], 3: [2, 6, 5], 4: [2, 6, 3, 4], 5: [2, 6, 2, 3, 2]},
    }
    i = 0
    for fmt in ("NHWC", "NCHW"):
        for rank in (2, 3, 4, 5):
            mid = 3 if rank in (2, 4) else 2
            for groups in (1, mid, 6):
                for affine in (True, False):
                    act, alpha = ACTS[(i * 3 + (1 if fmt == "NCHW" else 0)) % len(ACTS)]
                    eps, eps_given = DEFAULT_EPS, True
                    if i % 6 == 4:
                        eps = 1e-3
                    if i % 11 == 7:
                        eps, eps_given = None, False
                    i += 1
                    if rank == 2 and groups == 6 and act not in (None, "linear"):
                        # one element per group: z == beta (or 0 without affine);
                        # keep it linear so no kink question arises
                        act, alpha = "linear", None
                    name = "gn_{}_r{}_g{}_{}_{}".format(
                        fmt.lower(), rank, groups, "affine" if affine else "noaffine",
                        act_tag(act, alpha)) + eps_tag(eps, eps_given)
                    cases.append(gn_like_case("groupNorm", name, shapes[fmt][rank], fmt, groups,
                                              affine, eps, act, alpha, eps_given=eps_given))
    cases += [
        gn_like_case("groupNorm", "gn_nhwc_r3_c130_g13_relu", [2, 3, 130], "NHWC", 13, act="relu"),
        gn_like_case("groupNorm", "gn_nchw_r4_c130_g13_noaffine_elu0.5", [1, 130, 2, 2], "NCHW",
                     13, affine=False, act="elu", alpha=0.5),
        gn_like_case("groupNorm", "gn_nchw_r2_c130_g13_leakyrelu0.2", [3, 130], "NCHW", 13,
                     act="leakyRelu", alpha=0.2),
        gn_like_case("groupNorm", "gn_nchw_r3_c1_g1", [2, 1, 5], "NCHW", 1),
        gn_like_case("groupNorm", "gn_nhwc_r4_c1_g1_relu", [2, 3, 2, 1], "NHWC", 1, act="relu"),
        gn_like_case("groupNorm", "gn_nhwc_r4_c6_g3_n1_leakyrelu", [1, 3, 4, 6], "NHWC", 3,
                     act="leakyRelu"),
        gn_like_case("groupNorm", "gn_defaultfmt_r4_g2", [2, 3, 2, 4], "NHWC", 2, fmt_given=False),
        gn_like_case("groupNorm", "gn_nhwc_r4_g2_gammaonly", [2, 3, 2, 4], "NHWC", 2,
                     affine="gamma"),
        gn_like_case("groupNorm", "gn_nchw_r3_g2_betaonly_elu", [2, 4, 5], "NCHW", 2,
                     affine="beta", act="elu"),
        gn_like_case("groupNorm", "gn_nhwc_r4_g2_shifted", [2, 3, 3, 4], "NHWC", 2, shifted=True),
        gn_like_case("groupNorm", "gn_nchw_r3_g3_shifted_relu", [2, 6, 8], "NCHW", 3,
                     shifted=True, act="relu"),
    ]
    return cases


def instance_norm_cases():
    cases = []
    shapes = {
        "NHWC": {3: [2, 5, 4], 4: [2, 3, 4, 5], 5: [2, 2, 3, 2, 4]},
        "NCHW": {3: [2, 4, 5], 4: [2, 5, 3, 4], 5: [2, 4, 2, 3, 2]},
    }
    i = 0
    for fmt in ("NHWC", "NCHW"):
        for rank in (3, 4, 5):
            for affine in (True, False):
                act, alpha = ACTS[(i * 5 + 2) % len(ACTS)]
                eps, eps_given = DEFAULT_EPS, True
                if i % 5 == 1:
                    eps = 1e-3
                if i % 7 == 4:
                    eps, eps_given = None, False
                i += 1
                name = "in_{}_r{}_{}_{}".format(fmt.lower(), rank,
                                                "affine" if affine else "noaffine",
                                                act_tag(act, alpha)) + eps_tag(eps, eps_given)
                cases.append(gn_like_case("instanceNorm", name, shapes[fmt][rank], fmt, None,
                                          affine, eps, act, alpha, eps_given=eps_given))
    cases += [
        gn_like_case("instanceNorm", "in_nhwc_r3_c1_relu", [2, 6, 1], "NHWC", act="relu"),
        gn_like_case("instanceNorm", "in_nchw_r4_c1_noaffine", [2, 1, 3, 4], "NCHW", affine=False),
        gn_like_case("instanceNorm", "in_nhwc_r3_c130_elu", [2, 3, 130], "NHWC", act="elu"),
        gn_like_case("instanceNorm", "in_nchw_r4_c130_n1_leakyrelu0.2", [1, 130, 2, 2], "NCHW",
                     act="leakyRelu", alpha=0.2),
        gn_like_case("instanceNorm", "in_nchw_r3_n1_linear", [1, 3, 7], "NCHW", act="linear"),
        gn_like_case("instanceNorm", "in_defaultfmt_r4_relu", [2, 3, 2, 4], "NHWC", act="relu",
                     fmt_given=False),
        gn_like_case("instanceNorm", "in_nchw_r4_gammaonly", [2, 3, 2, 4], "NCHW",
                     affine="gamma"),
        gn_like_case("instanceNorm", "in_nhwc_r4_shifted", [2, 3, 4, 3], "NHWC", shifted=True),
        gn_like_case("instanceNorm", "in_nchw_r3_shifted_elu0.5", [2, 3, 10], "NCHW",
                     shifted=True, act="elu", alpha=0.5),
    ]
    return cases


# --------------------------------------------------------------------------
# moving statistics of the BatchNormalization layers
# --------------------------------------------------------------------------

def moving_stats_cases():
    """Running statistics after each of three training batches (NCHW, C = 3).

    PyTorch's nn.BatchNorm2d is the oracle for its conventions (unbiased running
    variance; momentum=0.1 and momentum=None, the cumulative average); the layer
    under test uses momentum = 1 - 0.1 (Keras convention) or null.  The Keras
    convention (biased variance, moving = m * moving + (1 - m) * batch) is the
    formula itself, evaluated in float64.
    """
    rng = np.random.default_rng(zlib.crc32(b"moving_stats"))
    batches = [(rng.standard_normal((4, 3, 2, 2)) * (1 + i) + i).astype(np.float32) for i in range(3)]
    enc = [enc_input(b) for b in batches]
    cases = []
    for name, torch_momentum, ours in [("torch_momentum_0.1", 0.1, 0.9), ("torch_cumulative", None, None)]:
        bn = torch.nn.BatchNorm2d(3, momentum=torch_momentum, eps=1e-3).double().train()
        after = []
        with torch.no_grad():
            for b in batches:
                bn(torch.from_numpy(b.astype(np.float64)))
                after.append({"mean": [float(v) for v in bn.running_mean],
                              "variance": [float(v) for v in bn.running_var]})
        cases.append({"name": name, "oracle": f"torch.nn.BatchNorm2d(momentum={torch_momentum})",
                      "layer": {"axis": 1, "momentum": ours, "unbiasedMovingVariance": True, "epsilon": 1e-3},
                      "batches": enc, "after": after})
    mean, var, m = np.zeros(3), np.ones(3), 0.99
    after = []
    for b in batches:
        x = b.astype(np.float64)
        mean = m * mean + (1 - m) * x.mean(axis=(0, 2, 3))
        var = m * var + (1 - m) * x.var(axis=(0, 2, 3))
        after.append({"mean": [float(v) for v in mean], "variance": [float(v) for v in var]})
    cases.append({"name": "keras_momentum_0.99", "oracle": "Keras formula in float64 (biased variance)",
                  "layer": {"axis": 1, "momentum": 0.99, "epsilon": 1e-3}, "batches": enc, "after": after})
    return cases



# --------------------------------------------------------------------------
# rmsNorm (torch.nn.functional.rms_norm)
# --------------------------------------------------------------------------

RMS_DEFAULT_EPS = 1e-6


def rms_case(name, shape, axes, affine=True, eps=None, x_fn=None):
    rank = len(shape)
    k = len(axes)
    assert sorted(a % rank for a in axes) == list(range(rank - k, rank)), "rmsNorm axes must be trailing"
    nshape = list(shape[rank - k:])
    eps_v = RMS_DEFAULT_EPS if eps is None else eps
    opts = {"epsilon": eps, "axes": list(axes)}

    def fn(g):
        x_np = g.x(shape, False) if x_fn is None else x_fn(g)
        gamma_np = g.normal(nshape, scale=0.5, loc=1.0) if affine else None
        dy_np = g.normal(shape)
        x, gamma = dbl(x_np), dbl(gamma_np)
        dy = dbl(dy_np, False)
        y = F.rms_norm(x, nshape, weight=gamma, eps=eps_v)
        # Cross-check against the formula of API.md.
        ref = x / torch.sqrt((x * x).mean(dim=tuple(range(rank - k, rank)), keepdim=True) + eps_v)
        if gamma is not None:
            ref = ref * gamma
        assert torch.allclose(y, ref, rtol=1e-12, atol=1e-14)
        dx, dgamma = vjp(y, dy, [x, gamma])
        case = {
            "inputs": {"x": enc_input(x_np), "gamma": enc_opt(gamma_np),
                       "dy": enc_input(dy_np)},
            "expected": {"y": enc_expected(y), "dx": enc_expected(dx), "dgamma": enc_expected(dgamma)},
        }
        return y, case

    return build_case(name, "rmsNorm", opts, fn, None, None)


def rms_norm_cases():
    cases = []
    shapes = {1: [7], 2: [5, 6], 3: [3, 4, 5], 4: [2, 3, 4, 5], 5: [2, 2, 3, 2, 4]}
    axes_opts = {1: [-1], 2: [-2, -1], 3: [-3, -2, -1]}
    for rank, shape in shapes.items():
        for k in range(1, min(rank, 3) + 1):
            for affine in (True, False):
                cases.append(rms_case(f"rms_r{rank}_k{k}_{'affine' if affine else 'plain'}", shape, axes_opts[k], affine))
    cases.append(rms_case("rms_eps1e-3", [4, 6], [-1], eps=1e-3))
    cases.append(rms_case("rms_eps1e-5_given", [4, 6], [-1], eps=1e-5))
    cases.append(rms_case("rms_D1", [5, 1], [-1]))
    cases.append(rms_case("rms_D130", [3, 130], [-1]))
    cases.append(rms_case("rms_positive_axes", [2, 3, 4, 5], [2, 3]))

    def zero_row(g):
        x = g.x([4, 8], False)
        x[1, :] = 0.0
        return x
    cases.append(rms_case("rms_zero_row", [4, 8], [-1], x_fn=zero_row))
    cases.append(rms_case("rms_zero_row_plain", [4, 8], [-1], affine=False, x_fn=zero_row))
    # |x| ~ 1e-4: mean(x²) ~ 1e-8 << epsilon, so epsilon dominates.
    cases.append(rms_case("rms_small_eps_dominates", [3, 16], [-1], x_fn=lambda g: g.normal([3, 16], scale=1e-4)))
    # |x| ~ 1e-3: mean(x²) ~ epsilon.
    cases.append(rms_case("rms_small_eps_comparable", [3, 16], [-1], x_fn=lambda g: g.normal([3, 16], scale=1e-3)))
    cases.append(rms_case("rms_small_eps1e-8", [3, 16], [-1], eps=1e-8, x_fn=lambda g: g.normal([3, 16], scale=1e-4)))
    cases.append(rms_case("rms_large_values", [3, 16], [-1], x_fn=lambda g: g.normal([3, 16], scale=1e3, loc=500.0)))
    return cases


# --------------------------------------------------------------------------
# Batch Renormalization (Ioffe 2017): autograd with r and d detached
# --------------------------------------------------------------------------

def renorm_case(name, shape, fmt, clip, affine=True, eps=1e-3, act=None, alpha=None, stats=None):
    """clip: dict of rMax/rMin/dMax (absent = not given). stats(g, mu, sigma) -> (mean, stddev)."""
    rank = len(shape)
    cax = channel_axis(rank, fmt)
    C = shape[cax]
    opts = {"training": True, "dataFormat": fmt, "epsilon": eps, "activation": act, "alpha": alpha,
            "renorm": {k: clip.get(k) for k in ("rMax", "rMin", "dMax")}}
    r_max = clip.get("rMax", float("inf"))
    r_min = clip.get("rMin", 1.0 / r_max)
    d_max = clip.get("dMax", float("inf"))

    def fn(g):
        (x_np, gamma_np, beta_np, dy_np), (x, gamma, beta, dy) = affine_inputs(g, shape, [C], affine, False)
        xc = to_cf(x, fmt)
        red = [0] + list(range(2, rank))
        mu = xc.mean(dim=red)
        var = xc.var(dim=red, unbiased=False)
        sigma = torch.sqrt(var + eps)
        mean_np, std_np = stats(g, mu.detach().numpy(), sigma.detach().numpy())
        rmean, rstd = dbl(mean_np, False), dbl(std_np, False)
        r = torch.clamp(sigma.detach() / rstd, r_min, r_max)
        d = torch.clamp((mu.detach() - rmean) / rstd, -d_max, d_max)
        view = [1, C] + [1] * (rank - 2)
        xhat = (xc - mu.view(view)) / sigma.view(view)
        z = xhat * r.view(view) + d.view(view)
        if gamma is not None:
            z = z * gamma.view(view)
        if beta is not None:
            z = z + beta.view(view)
        y = from_cf(apply_act(z, act, alpha), fmt)
        dx, dgamma, dbeta = vjp(y, dy, [x, gamma, beta])
        case = {
            "inputs": {"x": enc_input(x_np), "gamma": enc_opt(gamma_np),
                       "beta": enc_opt(beta_np), "dy": enc_input(dy_np),
                       "renormMean": enc_input(mean_np), "renormStddev": enc_input(std_np)},
            "expected": {"y": enc_expected(y), "mean": enc_expected(mu), "variance": enc_expected(var),
                         "r": enc_expected(r), "d": enc_expected(d), "dx": enc_expected(dx),
                         "dgamma": enc_expected(dgamma), "dbeta": enc_expected(dbeta)},
        }
        return from_cf(z, fmt), case

    return build_case(name, "batchNorm", opts, fn, act, 1e-3)


def renorm_cases():
    def near(g, mu, sigma):
        # Moving statistics near the batch's: r, d inside any clipping below.
        return ((mu + 0.05 * g.normal(mu.shape)).astype(np.float32),
                (sigma * g.uniform(sigma.shape, 0.9, 1.1)).astype(np.float32))

    def spread(g, mu, sigma):
        # sigma / stddev of 0.4, 0.9, 1.1, 2.5, ... and (mu - mean) / stddev of -2, 0.1, -0.1, 2, ...:
        # with rMax 1.5 (rMin 1/1.5) and dMax 0.5 some channels clip and the others do not.
        ratios = np.array([0.4, 0.9, 1.1, 2.5] * 4)[:len(mu)]
        offs = np.array([-2.0, 0.1, -0.1, 2.0, 0.2, -3.0, 0.0, 1.0] * 2)[:len(mu)]
        std = (sigma / ratios).astype(np.float32)
        return (mu - offs * std).astype(np.float32), std

    cases = [
        renorm_case("renorm_nhwc_r4_noclip", [4, 3, 3, 4], "NHWC", {}, stats=near),
        renorm_case("renorm_nchw_r4_noclip", [4, 4, 3, 3], "NCHW", {}, stats=near),
        renorm_case("renorm_r2_noclip_plain", [8, 5], "NHWC", {}, affine=False, stats=near),
        renorm_case("renorm_nchw_r3_partial_clip", [6, 8, 5], "NCHW", {"rMax": 1.5, "dMax": 0.5}, stats=spread),
        renorm_case("renorm_nhwc_r4_partial_clip", [3, 4, 2, 8], "NHWC", {"rMax": 1.5, "dMax": 0.5}, stats=spread),
        renorm_case("renorm_nhwc_r4_partial_clip_rmin", [3, 4, 2, 8], "NHWC",
                    {"rMax": 2.0, "rMin": 0.8, "dMax": 1.5}, stats=spread),
        renorm_case("renorm_nchw_r4_partial_clip_relu", [4, 8, 2, 3], "NCHW", {"rMax": 1.5, "dMax": 0.5},
                    act="relu", stats=spread),
        renorm_case("renorm_r2_partial_clip_gammaonly", [10, 8], "NHWC", {"rMax": 1.5, "dMax": 0.5},
                    affine="gamma", stats=spread),
    ]
    for c in cases:
        if "partial_clip" in c["name"]:
            # The fixture must exercise both sides of every clip.
            r = np.array(c["expected"]["r"]["data"])
            d = np.array(c["expected"]["d"]["data"])
            lim = c["opts"]["renorm"]
            r_max = lim["rMax"]
            r_min = lim["rMin"] if lim["rMin"] is not None else 1 / r_max
            r_clipped = np.isclose(r, r_max) | np.isclose(r, r_min)
            d_clipped = np.isclose(np.abs(d), lim["dMax"])
            assert r_clipped.any() and not r_clipped.all(), c["name"]
            assert d_clipped.any() and not d_clipped.all(), c["name"]
    return cases


# --------------------------------------------------------------------------
# InstanceNorm with tracked running statistics (torch.nn.InstanceNorm2d)
# --------------------------------------------------------------------------

def instance_running_cases():
    """Running statistics after each of three training batches, and an inference output.

    torch.nn.InstanceNorm2d(track_running_stats=True) is the oracle for PyTorch's conventions
    (the batch mean of the per-instance mean and unbiased variance; momentum 0.1); the layer
    under test uses momentum = 1 - 0.1. The Keras-convention case (biased variance, momentum
    0.99) is the formula in float64.
    """
    rng = np.random.default_rng(zlib.crc32(b"instance_running"))
    batches = [(rng.standard_normal((3, 4, 3, 2)) * (1 + i) + i).astype(np.float32) for i in range(3)]
    x_eval = (rng.standard_normal((2, 4, 3, 2)) * 2 + 1).astype(np.float32)
    gamma = (1 + 0.5 * rng.standard_normal(4)).astype(np.float32)
    beta = (0.5 * rng.standard_normal(4)).astype(np.float32)
    enc = [enc_input(b) for b in batches]
    cases = []
    eps = 1e-3
    for name, affine in [("torch_momentum_0.1", False), ("torch_momentum_0.1_affine", True)]:
        m = torch.nn.InstanceNorm2d(4, eps=eps, momentum=0.1, affine=affine, track_running_stats=True).double().train()
        if affine:
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(gamma.astype(np.float64)))
                m.bias.copy_(torch.from_numpy(beta.astype(np.float64)))
        after = []
        with torch.no_grad():
            for b in batches:
                m(torch.from_numpy(b.astype(np.float64)))
                after.append({"mean": [float(v) for v in m.running_mean],
                              "variance": [float(v) for v in m.running_var]})
            m.eval()
            y = m(torch.from_numpy(x_eval.astype(np.float64)))
        case = {"name": name, "oracle": "torch.nn.InstanceNorm2d(momentum=0.1, track_running_stats=True)",
                "layer": {"axis": 1, "trackRunningStats": True, "momentum": 0.9, "unbiasedMovingVariance": True,
                          "epsilon": eps, "center": affine, "scale": affine},
                "weights": {"gamma": enc_input(gamma), "beta": enc_input(beta)} if affine else None,
                "batches": enc, "after": after, "eval": {"x": enc_input(x_eval), "y": enc_expected(y)}}
        cases.append(case)
    mean, var, mom = np.zeros(4), np.ones(4), 0.99
    after = []
    for b in batches:
        x = b.astype(np.float64)
        mean = mom * mean + (1 - mom) * x.mean(axis=(2, 3)).mean(axis=0)
        var = mom * var + (1 - mom) * x.var(axis=(2, 3)).mean(axis=0)
        after.append({"mean": [float(v) for v in mean], "variance": [float(v) for v in var]})
    xe = x_eval.astype(np.float64)
    y = (xe - mean.reshape(1, 4, 1, 1)) / np.sqrt(var.reshape(1, 4, 1, 1) + eps)
    cases.append({"name": "keras_momentum_0.99", "oracle": "Keras-convention formula in float64 (biased variance)",
                  "layer": {"axis": 1, "trackRunningStats": True, "epsilon": eps, "center": False, "scale": False},
                  "weights": None, "batches": enc, "after": after,
                  "eval": {"x": enc_input(x_eval), "y": enc_expected(y)}})
    return cases


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

def write_file(fname, cases):
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), f"duplicate case names in {fname}"
    head = json.dumps({"generator": GENERATOR, "torch": torch.__version__})[:-1]
    lines = [json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases]
    text = head + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n"
    json.loads(text)  # sanity
    path = os.path.join(OUT_DIR, fname)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return path, len(cases), len(text.encode())


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    files = [
        ("batch_norm.json", batch_norm_cases),
        ("layer_norm.json", layer_norm_cases),
        ("group_norm.json", group_norm_cases),
        ("instance_norm.json", instance_norm_cases),
        ("moving_stats.json", moving_stats_cases),
        ("rms_norm.json", rms_norm_cases),
        ("renorm.json", renorm_cases),
        ("instance_running_stats.json", instance_running_cases),
    ]
    total_cases = total_bytes = 0
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    for fname, builder in files:
        path, n, size = write_file(fname, builder())
        total_cases += n
        total_bytes += size
        print(f"  {os.path.relpath(path, REPO_ROOT):36s} {n:4d} cases {size / 1024:9.1f} KiB")
    print(f"  {'total':36s} {total_cases:4d} cases {total_bytes / 1024:9.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

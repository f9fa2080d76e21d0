"""The pieces of an exported training script that depend on the config: model, likelihood,
corruption and objective, as Python source (see :mod:`engine.export.script`).

Each function returns the source of one section, written out for the one config it is
given: only the layers, terms and noise that run uses, in the order the app's model draws
its random numbers.
"""

from __future__ import annotations

import math

from engine.config import RunConfig

_ACT = {"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "elu": "nn.ELU()",
        "leaky_relu": "nn.LeakyReLU(0.2)", "linear": "nn.Identity()"}


def model_code(cfg: RunConfig, shape: tuple[int, int, int], per_channel: int) -> str:
    m = cfg.model
    c, h, w = shape
    out = m.latent_dim * (2 if m.variational else 1)
    act = _ACT[m.activation]
    if m.architecture == "conv":
        enc_layers, ch, sizes = [], c, [(h, w)]
        for k in m.hidden:
            enc_layers += [f"nn.Conv2d({ch}, {k}, 4, 2, 1)", act]
            ch = k
            sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
        enc_layers.append("nn.Flatten()")
        features = ch * sizes[-1][0] * sizes[-1][1]
        start = (m.hidden[-1], *sizes[-1])
        dec_layers = [act]
        outs = list(reversed(m.hidden[:-1])) + [c * per_channel]
        in_ch = m.hidden[-1]
        for i, out_ch in enumerate(outs):
            src, dst = sizes[-1 - i], sizes[-2 - i]
            pad = (dst[0] - 2 * src[0], dst[1] - 2 * src[1])
            dec_layers.append(f"nn.ConvTranspose2d({in_ch}, {out_ch}, 4, 2, 1, "
                              f"output_padding={pad})")
            if i < len(outs) - 1:
                dec_layers.append(act)
            in_ch = out_ch
        decoder_init = (f"        self.fc = nn.Linear({m.latent_dim}, {math.prod(start)})\n"
                        f"        self.body = {seq(dec_layers, 8)}")
        decoder_forward = (f"        return self.body(self.fc(z).view(z.shape[0], "
                           f"{start[0]}, {start[1]}, {start[2]}))")
    else:
        enc_layers, width = ["nn.Flatten()"], c * h * w
        for k in m.hidden:
            enc_layers += [f"nn.Linear({width}, {k})", act]
            width = k
        features = width
        dec_layers, wd = [], m.latent_dim
        for k in reversed(m.hidden):
            dec_layers += [f"nn.Linear({wd}, {k})", act]
            wd = k
        dec_layers.append(f"nn.Linear({wd}, {c * per_channel * h * w})")
        decoder_init = f"        self.net = {seq(dec_layers, 8)}"
        decoder_forward = f"        return self.net(z).view(z.shape[0], {c * per_channel}, {h}, {w})"
    if m.variational:
        what = f"the mean and log-variance of q(z|x), {m.latent_dim} each"
        extra_init = ""
        forward = f'''\
    def forward(self, x, generator=None):
        """-> (z, h, mean, logvar): z a sample of q(z|x) by reparameterisation, h its mean."""
        out = self.head(self.body(x))
        mean, logvar = out[:, :{m.latent_dim}], out[:, {m.latent_dim}:]
        logvar = logvar.clamp(-30.0, 20.0)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device,
                          dtype=mean.dtype)
        return mean + torch.exp(0.5 * logvar) * eps, mean, mean, logvar'''
    else:
        what = f"the code, {m.latent_dim} values"
        linear = m.code_activation == "linear"
        extra_init = "" if linear else f"\n        self.code_act = {_ACT[m.code_activation]}"
        apply = "self.head(self.body(x))" if linear else "self.code_act(self.head(self.body(x)))"
        forward = f'''\
    def forward(self, x, generator=None):
        """-> (z, h, None, None): a deterministic code, z = h."""
        h = {apply}
        return h, h, None, None'''
    return f'''\
# -- the model (layers made in the app's order: the same seed gives the same weights)

class Encoder(nn.Module):
    """x (B, {c}, {h}, {w}) in [0, 1] -> {what}."""

    def __init__(self):
        super().__init__()
        self.body = {seq(enc_layers, 8)}
        self.head = nn.Linear({features}, {out}){extra_init}

{forward}


class Decoder(nn.Module):
    """z (B, {m.latent_dim}) -> likelihood parameters (B, {c * per_channel}, {h}, {w})."""

    def __init__(self):
        super().__init__()
{decoder_init}

    def forward(self, z):
{decoder_forward}
'''


def seq(layers: list[str], indent: int = 16) -> str:
    pad = " " * (indent + 4)
    inner = (",\n" + pad).join(layers)
    return f"nn.Sequential(\n{pad}{inner},\n{' ' * indent})"


def likelihood_code(o) -> str:
    if o.likelihood == "gaussian":
        return f'''\
# -- the likelihood p(x|z): Gaussian with a fixed standard deviation (squared error)

STD = {o.gaussian_std!r}
LOG_NORM = math.log(STD) + 0.5 * math.log(2 * math.pi)


def nll(x, params):
    """Negative log-likelihood per image, (B,) nats."""
    sq = (x - params).pow(2).flatten(1).sum(1)
    return 0.5 * sq / STD**2 + LOG_NORM * x[0].numel()


def mean_image(params):
    return params.clamp(0.0, 1.0)
'''
    if o.likelihood == "bernoulli":
        return '''\
# -- the likelihood p(x|z): Bernoulli on the decoder's logits (cross-entropy)

def nll(x, params):
    """Negative log-likelihood per image, (B,) nats."""
    return F.binary_cross_entropy_with_logits(params, x, reduction="none").flatten(1).sum(1)


def mean_image(params):
    return torch.sigmoid(params)
'''
    return f'''\
# -- the likelihood p(x|z): a softmax over K grey levels per pixel

LEVELS = {o.levels}


def _logits(params):
    b, ck, h, w = params.shape
    return params.view(b, ck // LEVELS, LEVELS, h, w)


def nll(x, params):
    """Negative log-likelihood per image, (B,) nats; x quantised to round(x (K-1))."""
    target = torch.round(x.clamp(0, 1) * (LEVELS - 1)).long()
    ce = F.cross_entropy(_logits(params).transpose(1, 2), target, reduction="none")
    return ce.flatten(1).sum(1)


def mean_image(params):
    probs = torch.softmax(_logits(params), dim=2)
    values = torch.linspace(0, 1, LEVELS, device=params.device, dtype=params.dtype)
    return (probs * values.view(1, 1, -1, 1, 1)).sum(2)
'''


def corruption_code(o) -> str:
    if o.corruption == "none" or o.corruption_level <= 0:
        return '''\
def corrupt(x, generator):
    """No corruption: the encoder sees the clean images."""
    return x
'''
    level = repr(o.corruption_level)
    if o.corruption == "gaussian":
        body = f'''\
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + {level} * noise).clamp_(0.0, 1.0)'''
        what = f"additive Gaussian noise, std {level}, clipped to [0, 1]"
    elif o.corruption == "masking":
        body = f'''\
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x * (u >= {level})'''
        what = f"each pixel set to 0 with probability {level}"
    else:
        body = f'''\
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    salt = (u < {level} / 2).to(x.dtype)
    return torch.where(u < {level}, salt, x)'''
        what = f"each pixel set to 0 or 1 (equally likely) with probability {level}"
    return f'''\
# -- denoising: the encoder sees a corrupted copy, the loss compares with the clean image

def corrupt(x, generator):
    """{what}."""
{body}
'''


def uses_closed_form_jacobian(cfg: RunConfig) -> bool:
    m = cfg.model
    return (not m.variational and m.architecture == "mlp" and not m.hidden
            and m.code_activation in ("sigmoid", "tanh", "relu", "linear"))


def loss_code(cfg: RunConfig) -> str:
    m, o = cfg.model, cfg.objective
    lines = ["x_in = corrupt(x, generator)"]
    jac = o.contractive > 0
    if jac:
        lines.append("x_in = x_in.detach().requires_grad_(True)   # for dh/dx")
    lines += ["z, h, mean, logvar = encoder(x_in, generator)",
              "recon = nll(x, decoder(z)).mean()",
              'terms = {"recon": recon}', "total = recon"]
    if m.variational:
        lines += ["kl = (0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar)).sum(1).mean()",
                  'terms["kl"] = kl', 'terms["elbo"] = -(recon + kl).detach()',
                  f"total = total + {o.beta!r} * kl          # beta"]
    if o.sparsity > 0:
        lines += ["sparsity = h.abs().sum(1).mean()          # L1 of the code",
                  'terms["sparsity"] = sparsity', f"total = total + {o.sparsity!r} * sparsity"]
    helpers = ""
    if jac:
        if o.contractive_estimator == "exact" and uses_closed_form_jacobian(cfg):
            slope = {"sigmoid": "h * (1 - h)", "tanh": "1 - h.pow(2)",
                     "relu": "(h > 0).to(h.dtype)", "linear": "torch.ones_like(h)"}[
                m.code_activation]
            lines += ["# one layer h = a(W x + b): ||dh/dx||^2 = sum_i a'(u_i)^2 ||W_i||^2",
                      f"slope = {slope}",
                      "jac = (slope.pow(2) * encoder.head.weight.pow(2).sum(1)).sum(1)"]
        elif o.contractive_estimator == "exact":
            helpers = '''\
def jacobian_frobenius_sq(h, x, create_graph):
    """Exact ||dh/dx||_F^2 per image: one vector-Jacobian product per code unit, batched."""
    d = h.shape[1]
    eye = torch.eye(d, device=h.device, dtype=h.dtype)
    grad_out = eye[:, None, :].expand(d, h.shape[0], d)
    (jac,) = torch.autograd.grad(h, x, grad_outputs=grad_out, is_grads_batched=True,
                                 create_graph=create_graph)
    return jac.pow(2).flatten(2).sum((0, 2))


'''
            lines.append("jac = jacobian_frobenius_sq(h, x_in, create_graph)")
        else:
            helpers = f'''\
def jacobian_frobenius_sq_projected(h, x, create_graph, generator):
    """Unbiased estimate of ||dh/dx||_F^2 from {o.projections} random projection(s)."""
    total = torch.zeros(h.shape[0], device=h.device, dtype=h.dtype)
    for _ in range({o.projections}):
        v = torch.randn(h.shape, generator=generator, device=h.device, dtype=h.dtype)
        (g,) = torch.autograd.grad(h, x, grad_outputs=v, create_graph=create_graph,
                                   retain_graph=True)
        total = total + g.pow(2).flatten(1).sum(1)
    return total / {o.projections}


'''
            lines.append("jac = jacobian_frobenius_sq_projected(h, x_in, create_graph, "
                         "generator)")
        lines += ["contractive = jac.mean()", 'terms["contractive"] = contractive',
                  f"total = total + {o.contractive!r} * contractive"]
    order = ["total", "recon"] + (["kl", "elbo"] if m.variational else []) + \
        (["sparsity"] if o.sparsity > 0 else []) + (["contractive"] if jac else [])
    lines += ['terms["total"] = total',
              f"return {{name: terms[name] for name in {order!r}}}   # total first"]
    body = "\n".join("    " + ln for ln in lines)
    return f'''\
# -- the objective: the terms per image, averaged over the batch

{helpers}def loss_terms(encoder, decoder, x, generator, create_graph=True):
    """Named scalar terms of a batch x (B, C, H, W); total is minimised."""
{body}
'''

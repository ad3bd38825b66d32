"""The PyTorch twin of the C# seed VAE: the same layers, parameter names and per-image loss.

Shared by vae_recipe.py (train / eval / bench), vae_checkpoint.py (load_vae / save_vae) and
tests/fixtures/make_vae_fixtures.py, so all three use one definition of the model and the loss.

Model VAE(input, hidden=[h1, .., hn], latent):
  encoder  x -> Linear(input, h1) -> ReLU -> .. -> Linear(h(n-1), hn) -> ReLU -> h
  heads    mu = Linear(hn, latent)(h), logvar = Linear(hn, latent)(h)
  sample   z = mu + exp(0.5 * logvar) * eps,  eps ~ N(0, I)
  decoder  z -> Linear(latent, hn) -> ReLU -> .. -> Linear(h2, h1) -> ReLU -> Linear(h1, input) = logits
Parameter names: enc.i.weight/bias, mu.*, logvar.*, dec.i.weight/bias, out.*; weights are (out, in).

Model CVAE(input, hidden, latent, classes), the twin of the C# conditional VAE: the same layers and names, except that
enc.0 reads [x | y] (input + classes) and dec.0 reads [z | y] (latent + classes), y the one-hot label.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

RECON_KINDS = ("bce", "mse")


class VAE(nn.Module):
    def __init__(self, input=784, hidden=(400, 400), latent=20):
        super().__init__()
        hidden = [int(h) for h in hidden]
        if input <= 0 or latent <= 0 or not hidden or any(h <= 0 for h in hidden):
            raise ValueError(f"VAE sizes must be positive with at least one hidden layer; "
                             f"got input={input}, hidden={hidden}, latent={latent}.")
        self.input_size = int(input)
        self.hidden_sizes = hidden
        self.latent_size = int(latent)
        encoder_sizes = [self.input_size] + hidden
        self.enc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(encoder_sizes[:-1], encoder_sizes[1:]))
        self.mu = nn.Linear(hidden[-1], self.latent_size)
        self.logvar = nn.Linear(hidden[-1], self.latent_size)
        decoder_sizes = [self.latent_size] + hidden[::-1]
        self.dec = nn.ModuleList(nn.Linear(a, b) for a, b in zip(decoder_sizes[:-1], decoder_sizes[1:]))
        self.out = nn.Linear(hidden[0], self.input_size)

    def encode(self, x):
        """x (B, input) -> mu (B, latent), logvar (B, latent)."""
        h = x
        for layer in self.enc:
            h = F.relu(layer(h))
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        """z (B, latent) -> logits (B, input)."""
        h = z
        for layer in self.dec:
            h = F.relu(layer(h))
        return self.out(h)

    def forward(self, x, eps=None):
        """x (B, input) -> logits (B, input), mu, logvar (B, latent). eps (B, latent) defaults to a fresh N(0, I) draw."""
        mu, logvar = self.encode(x)
        if eps is None:
            eps = torch.randn_like(mu)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode(z), mu, logvar

    def linear_layers(self):
        """Every Linear in the order the forward pass runs them (mu and logvar both read the last hidden layer)."""
        return list(self.enc) + [self.mu, self.logvar] + list(self.dec) + [self.out]

    def config(self):
        return {"model": "vae", "input": self.input_size, "hidden": list(self.hidden_sizes), "latent": self.latent_size}


def vae_loss(logits, x, mu, logvar, recon="bce", beta=1.0):
    """Batch means of the per-image loss in nats: (loss, recon, kl), loss = recon + beta * kl.

    recon "bce": binary cross-entropy with logits summed over pixels; "mse": sum over pixels of (sigmoid(logits) - x)^2.
    kl = -0.5 * sum over latent dims of (1 + logvar - mu^2 - exp(logvar)).
    """
    batch = x.shape[0]
    if recon == "bce":
        recon_sum = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    elif recon == "mse":
        recon_sum = ((torch.sigmoid(logits) - x) ** 2).sum()
    else:
        raise ValueError(f"Unknown reconstruction loss '{recon}'; expected one of {RECON_KINDS}.")
    kl_sum = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    recon_mean = recon_sum / batch
    kl_mean = kl_sum / batch
    return recon_mean + beta * kl_mean, recon_mean, kl_mean


def step_gemm_flops(layer_sizes, batch):
    """Useful GEMM flops of one training step for Linear layers [(in, out), ..] at batch B.

    forward:  2 * B * sum(in * out)                 (one (B,in) x (in,out) product per layer)
    backward: 2 * B * sum(in * out) for weight grads + 2 * B * sum(in * out) for input grads,
              minus the first layer's input gradient (the data needs none): - 2 * B * in0 * out0
    total = 2 * B * (3 * sum(in * out) - in0 * out0)
    """
    total = sum(i * o for i, o in layer_sizes)
    first_in, first_out = layer_sizes[0]
    return 2 * batch * (3 * total - first_in * first_out)


class CVAE(VAE):
    """The conditional VAE: the one-hot label y (B, classes) is joined to the encoder's input and the decoder's input."""

    def __init__(self, input=784, hidden=(400, 400), latent=20, classes=10):
        super().__init__(input, hidden, latent)
        if classes <= 0:
            raise ValueError(f"A CVAE needs at least one class; got classes={classes}.")
        self.classes = int(classes)
        # The first layer of each network reads the label too (replacing the VAE's, so the state_dict order is kept).
        self.enc[0] = nn.Linear(self.input_size + self.classes, self.hidden_sizes[0])
        self.dec[0] = nn.Linear(self.latent_size + self.classes, self.hidden_sizes[-1])

    def encode(self, x, y):
        """x (B, input), y (B, classes) one-hot -> mu, logvar (B, latent)."""
        return super().encode(torch.cat([x, y], dim=1))

    def decode(self, z, y):
        """z (B, latent), y (B, classes) -> logits (B, input)."""
        return super().decode(torch.cat([z, y], dim=1))

    def forward(self, x, y, eps=None):
        """x (B, input), y (B, classes) -> logits (B, input), mu, logvar (B, latent)."""
        mu, logvar = self.encode(x, y)
        if eps is None:
            eps = torch.randn_like(mu)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode(z, y), mu, logvar

    def config(self):
        return {"model": "cvae", "input": self.input_size, "hidden": list(self.hidden_sizes), "latent": self.latent_size,
                "classes": self.classes}


def _mlp(sizes):
    """Linear layers sizes[0] -> sizes[1] -> .. as a ModuleList (ReLU between them is applied by the caller)."""
    return nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))


def _relu_stack(layers, h):
    for layer in layers:
        h = F.relu(layer(h))
    return h


class HVAE(nn.Module):
    """The PyTorch twin of the C# hierarchical VAE (HvaeModel) with two stochastic layers.

    generative  p(z2) = N(0, I); p(z1 | z2) = N(prior_mu, exp(prior_logvar)) from prior.* on z2; p(x | z1) from dec.*, out
    inference   q(z1 | x) = N(mu1, exp(logvar1)) from enc1.* on x; q(z2 | z1) = N(mu2, exp(logvar2)) from enc2.* on the sampled z1
    Hidden layers use ReLU; hidden (x <-> z1 networks) is mirrored by the decoder, hidden2 (z1 <-> z2) by the prior net.
    Parameter names (state_dict order): enc1.i, mu1, logvar1, enc2.i, mu2, logvar2, prior.i, prior_mu, prior_logvar,
    dec.i, out; weights (out, in).
    """

    def __init__(self, input=784, hidden=(400, 400), latent1=32, hidden2=(100, 100), latent2=16):
        super().__init__()
        hidden = [int(h) for h in hidden]
        hidden2 = [int(h) for h in hidden2]
        if input <= 0 or latent1 <= 0 or latent2 <= 0 or any(h <= 0 for h in hidden + hidden2):
            raise ValueError(f"HVAE sizes must be positive; got input={input}, hidden={hidden}, latent1={latent1}, "
                             f"hidden2={hidden2}, latent2={latent2}.")
        self.input_size, self.latent1, self.latent2 = int(input), int(latent1), int(latent2)
        self.hidden_sizes, self.hidden2_sizes = hidden, hidden2
        q1 = [self.input_size] + hidden
        self.enc1 = _mlp(q1)
        self.mu1 = nn.Linear(q1[-1], self.latent1)
        self.logvar1 = nn.Linear(q1[-1], self.latent1)
        q2 = [self.latent1] + hidden2
        self.enc2 = _mlp(q2)
        self.mu2 = nn.Linear(q2[-1], self.latent2)
        self.logvar2 = nn.Linear(q2[-1], self.latent2)
        p1 = [self.latent2] + hidden2[::-1]
        self.prior = _mlp(p1)
        self.prior_mu = nn.Linear(p1[-1], self.latent1)
        self.prior_logvar = nn.Linear(p1[-1], self.latent1)
        px = [self.latent1] + hidden[::-1]
        self.dec = _mlp(px)
        self.out = nn.Linear(px[-1], self.input_size)

    def encode1(self, x):
        h = _relu_stack(self.enc1, x)
        return self.mu1(h), self.logvar1(h)

    def encode2(self, z1):
        h = _relu_stack(self.enc2, z1)
        return self.mu2(h), self.logvar2(h)

    def prior1(self, z2):
        h = _relu_stack(self.prior, z2)
        return self.prior_mu(h), self.prior_logvar(h)

    def decode(self, z1):
        return self.out(_relu_stack(self.dec, z1))

    def forward(self, x, eps1=None, eps2=None):
        """x (B, input) -> dict of logits, mu1, logvar1, z1, mu2, logvar2, z2, prior_mu, prior_logvar."""
        mu1, logvar1 = self.encode1(x)
        eps1 = torch.randn_like(mu1) if eps1 is None else eps1
        z1 = mu1 + torch.exp(0.5 * logvar1) * eps1
        mu2, logvar2 = self.encode2(z1)
        eps2 = torch.randn_like(mu2) if eps2 is None else eps2
        z2 = mu2 + torch.exp(0.5 * logvar2) * eps2
        prior_mu, prior_logvar = self.prior1(z2)
        return {"logits": self.decode(z1), "mu1": mu1, "logvar1": logvar1, "z1": z1, "mu2": mu2, "logvar2": logvar2,
                "z2": z2, "prior_mu": prior_mu, "prior_logvar": prior_logvar}

    def relu_layers(self):
        """Every Linear whose output goes through a ReLU."""
        return list(self.enc1) + list(self.enc2) + list(self.prior) + list(self.dec)

    def config(self):
        return {"model": "hvae", "input": self.input_size, "hidden": list(self.hidden_sizes), "latent1": self.latent1,
                "hidden2": list(self.hidden2_sizes), "latent2": self.latent2}


def hvae_kl_elements(out):
    """Per-element KLs, (B, latent1) and (B, latent2): KL(q(z1|x) || p(z1|z2)) given the sampled z2, KL(q(z2|z1) || N(0, I))."""
    mu1, lv1, mp, lp = out["mu1"], out["logvar1"], out["prior_mu"], out["prior_logvar"]
    kl1 = 0.5 * (lp - lv1 + (lv1.exp() + (mu1 - mp) ** 2) * torch.exp(-lp) - 1)
    kl2 = -0.5 * (1 + out["logvar2"] - out["mu2"] ** 2 - out["logvar2"].exp())
    return kl1, kl2


def hvae_loss(out, x, recon="bce", beta=1.0, free_bits=0.0):
    """(objective, loss, recon, kl1, kl2) as batch means in nats; loss = recon + beta * (kl1 + kl2).

    The objective is the loss, or with free_bits > 0: recon + beta * (sum_c max(free_bits, KL1_c) + sum_c max(free_bits,
    KL2_c)), KL_c the batch-mean KL of dimension c of each layer (Kingma et al. 2016).
    """
    batch = x.shape[0]
    logits = out["logits"]
    if recon == "bce":
        recon_sum = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    elif recon == "mse":
        recon_sum = ((torch.sigmoid(logits) - x) ** 2).sum()
    else:
        raise ValueError(f"Unknown reconstruction loss '{recon}'; expected one of {RECON_KINDS}.")
    kl1, kl2 = hvae_kl_elements(out)
    recon_mean, kl1_mean, kl2_mean = recon_sum / batch, kl1.sum() / batch, kl2.sum() / batch
    loss = recon_mean + beta * (kl1_mean + kl2_mean)
    if free_bits > 0:
        floored = torch.clamp(kl1.mean(0), min=free_bits).sum() + torch.clamp(kl2.mean(0), min=free_bits).sum()
        objective = recon_mean + beta * floored
    else:
        objective = loss
    return objective, loss, recon_mean, kl1_mean, kl2_mean

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

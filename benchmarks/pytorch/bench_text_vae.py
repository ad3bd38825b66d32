#!/usr/bin/python3
"""Times whole training steps of the text VAE (or its language model, --latent 0) in PyTorch on the CPU, the model and
recipe of `vae bench train --model text`.

    /usr/bin/python3 benchmarks/pytorch/bench_text_vae.py [--batch 64] [--length 24] [--steps 100] [--warmup 10]
        [--threads 2] [--vocab-size 10004] [--embedding 128] [--hidden 256] [--latent 32] [--encoder-layers 1] [--json]

Model (the parameter names of src/Vae.Core/Models/Text/TextVaeModel.cs): embedding nn.Embedding(V, E, padding_idx=0);
encoder a bidirectional nn.LSTM over the packed embedded sentences (<bos> words <eos>), whose last layer's final h of
both directions goes through latent nn.Linear(2H, 2Z) to [mu | logvar]; z = mu + exp(logvar / 2) eps;
decoder_init nn.Linear(Z, 2H) gives the decoder's [h0 | c0]; decoder nn.LSTM(E + Z, H) reads [embedding of the
previous token | z] at every step (<bos> words, teacher forcing, word dropout 0.25 on the words); output
nn.Linear(H, V). Loss = cross_entropy(logits, next tokens, ignore_index=0, reduction='sum') / B + KL / B; Adam 1e-3,
clip_grad_norm_ 5. With --latent 0 there is no encoder, no z and no KL.

Data: a table of 2048 sentences of exactly --length word ids drawn uniformly from the non-special ids (seed 7);
batches are consecutive slices of a fixed permutation. A timed step is everything a training step does: gather the
batch (word dropout included), draw the noise, zero the gradients, forward, backward, clip, Adam, read the loss.
Prints the median and minimum of --steps timed steps after --warmup untimed ones, in milliseconds, the sequences and
predicted tokens (words and <eos>) per second and the useful GEMM GFLOP/s (counted as `vae bench train` counts them).
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

PAD, BOS, EOS, UNK, SPECIALS = 0, 1, 2, 3, 4
MIN_LOGVAR, MAX_LOGVAR = -30.0, 20.0   # the clamp of Vae's Reparameterization
SENTENCES = 2048


class TextVae(nn.Module):
    def __init__(self, vocabulary, embedding, hidden, latent, encoder_layers):
        super().__init__()
        self.latent_size = latent
        self.embedding = nn.Embedding(vocabulary, embedding, padding_idx=PAD)
        if latent > 0:
            self.encoder = nn.LSTM(embedding, hidden, num_layers=encoder_layers, bidirectional=True)
            self.latent = nn.Linear(2 * hidden, 2 * latent)
            self.decoder_init = nn.Linear(latent, 2 * hidden)
        self.decoder = nn.LSTM(embedding + latent, hidden)
        self.output = nn.Linear(hidden, vocabulary)

    def forward(self, encoder_tokens, lengths, decoder_tokens, targets, eps):
        """encoder_tokens (T, B), decoder_tokens and targets (S, B), time-major; returns (sum recon, sum KL)."""
        steps, batch = decoder_tokens.shape
        embedded = self.embedding(decoder_tokens)
        if self.latent_size == 0:
            output, _ = self.decoder(embedded)
            kl = torch.zeros(())
        else:
            packed = pack_padded_sequence(self.embedding(encoder_tokens), lengths, enforce_sorted=False)
            _, (h_n, _) = self.encoder(packed)
            mu, logvar = self.latent(torch.cat([h_n[-2], h_n[-1]], dim=1)).chunk(2, dim=1)
            logvar = logvar.clamp(MIN_LOGVAR, MAX_LOGVAR)
            z = mu + torch.exp(0.5 * logvar) * eps
            h0, c0 = self.decoder_init(z).chunk(2, dim=1)
            inputs = torch.cat([embedded, z.unsqueeze(0).expand(steps, batch, self.latent_size)], dim=2)
            output, _ = self.decoder(inputs, (h0.unsqueeze(0).contiguous(), c0.unsqueeze(0).contiguous()))
            kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp())
        logits = self.output(output)
        recon = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD, reduction="sum")
        return recon, kl


def useful_flops(args):
    """GEMM flops of one step, the count of BenchTrainCommand.TextUsefulFlopsPerStep."""
    h, e, z, v = args.hidden, args.embedding, args.latent, args.vocab_size
    t, s = args.length + 2, args.length + 1
    macs = s * 4 * h * (e + z + h) + s * h * v
    if z > 0:
        for layer in range(args.encoder_layers):
            macs += 2 * t * 4 * h * ((e if layer == 0 else 2 * h) + h)
        macs += 2 * h * 2 * z + z * 2 * h
    return 3 * 2 * args.batch * macs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=24)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--vocab-size", type=int, default=10004)
    parser.add_argument("--embedding", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--latent", type=int, default=32)
    parser.add_argument("--encoder-layers", type=int, default=1)
    parser.add_argument("--word-dropout", type=float, default=0.25)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.vocab_size <= SPECIALS or args.length < 1 or args.batch < 1 or args.steps < 1 or args.latent < 0:
        parser.error("need --vocab-size > 4, --length >= 1, --batch >= 1, --steps >= 1 and --latent >= 0")
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    model = TextVae(args.vocab_size, args.embedding, args.hidden, args.latent, args.encoder_layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(7)
    words = torch.randint(SPECIALS, args.vocab_size, (SENTENCES, args.length), generator=generator)
    table = torch.cat([torch.full((SENTENCES, 1), BOS), words, torch.full((SENTENCES, 1), EOS)], dim=1)   # (N, T)
    order = torch.randperm(SENTENCES, generator=generator)
    steps = args.length + 1
    lengths = torch.full((args.batch,), args.length + 2, dtype=torch.int64)
    is_word = torch.zeros(steps, 1, dtype=torch.bool)
    is_word[1:] = True   # decoder inputs: <bos> then the words
    position = 0

    def step():
        nonlocal position
        if position + args.batch > SENTENCES:
            position = 0
        sequences = table[order[position:position + args.batch]].t()   # (T, B) time-major
        position += args.batch
        decoder_tokens = sequences[:-1]
        dropped = is_word & (torch.rand(steps, args.batch, generator=generator) < args.word_dropout)
        decoder_tokens = decoder_tokens.masked_fill(dropped, UNK)
        eps = torch.randn(args.batch, args.latent, generator=generator) if args.latent > 0 else None
        optimizer.zero_grad(set_to_none=False)
        recon, kl = model(sequences, lengths, decoder_tokens, sequences[1:], eps)
        loss = (recon + kl) / args.batch
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    samples = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    median, minimum = statistics.median(samples), min(samples)
    tokens = args.batch * (args.length + 1)
    config = f"V{args.vocab_size}-E{args.embedding}-H{args.hidden}" + (f"-Z{args.latent}" if args.latent else " language model")
    row = {"engine": "pytorch", "torch": torch.__version__, "model": "text", "variant": "vae" if args.latent else "lm",
           "config": config, "batch": args.batch, "length": args.length, "threads": args.threads, "steps": args.steps,
           "step_ms_median": round(median, 4), "step_ms_min": round(minimum, 4),
           "sequences_per_s": round(args.batch / (median * 1e-3), 1), "tokens_per_s": round(tokens / (median * 1e-3)),
           "tokens_per_step": tokens, "gflops": round(useful_flops(args) / (median * 1e6), 2)}
    if args.json:
        print(json.dumps(row))
    else:
        for key, value in row.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Tests of the PyTorch side: safetensors reading/writing, the checkpoint convention, the reference fixtures.

    /usr/bin/python3 benchmarks/pytorch/test_vae_pytorch.py [-v]
"""
import gzip
import json
import os
import struct
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "tests", "fixtures")
sys.path.insert(0, HERE)
from vae_checkpoint import load_vae, read_safetensors, save_vae, write_safetensors  # noqa: E402
from vae_model import HVAE, VAE, hvae_loss, step_gemm_flops, vae_loss  # noqa: E402
from vae_recipe import read_idx_images  # noqa: E402

FIXTURE_NAMES = ["bce_784_32_8", "mse_784_24_16_5", "bce_50_40_30_20_6"]
HVAE_FIXTURE_NAMES = ["bce_60_24_6_10_4", "mse_784_32_16_8_12_10_3"]


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def hand_built_file(header, data):
    """A safetensors file assembled directly from a header dict and data bytes (no padding)."""
    text = json.dumps(header).encode("utf-8")
    return struct.pack("<Q", len(text)) + text + data


class TempDir(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.dir = self._dir.name

    def tearDown(self):
        self._dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_bytes(self, name, blob):
        with open(self.path(name), "wb") as f:
            f.write(blob)
        return self.path(name)


class SafetensorsTests(TempDir):
    def test_round_trip_keeps_values_dtypes_shapes_order_and_metadata(self):
        rng = np.random.default_rng(7)
        tensors = {
            "b_f32": rng.standard_normal((3, 5)).astype(np.float32),
            "a_f64": rng.standard_normal((2,)),
            "i32": np.arange(-6, 6, dtype=np.int32).reshape(3, 4),
            "i64": np.array([[2 ** 40]], dtype=np.int64),
            "u8": np.arange(7, dtype=np.uint8),
            "empty": np.zeros((0, 4), dtype=np.float32),
            "scalar": np.array(1.5, dtype=np.float32),
            "big_endian": np.arange(3, dtype=">f4"),
        }
        metadata = {"format": "x", "note": "ünïcode"}
        write_safetensors(self.path("t.safetensors"), tensors, metadata)
        read, read_metadata = read_safetensors(self.path("t.safetensors"))
        self.assertEqual(read_metadata, metadata)
        self.assertEqual(list(read), list(tensors))
        for name, value in tensors.items():
            self.assertEqual(read[name].shape, value.shape, name)
            self.assertEqual(read[name].dtype, value.dtype.newbyteorder("="), name)
            np.testing.assert_array_equal(read[name], value, err_msg=name)

    def test_layout_is_u64_length_then_space_padded_json_then_little_endian_data(self):
        write_safetensors(self.path("t.safetensors"), {"w": np.array([1.0, -2.0], dtype=np.float32)}, {"k": "v"})
        blob = file_bytes(self.path("t.safetensors"))
        (n,) = struct.unpack("<Q", blob[:8])
        self.assertEqual(n % 8, 0)
        text = blob[8:8 + n]
        header = json.loads(text.decode("utf-8"))
        self.assertTrue(text.rstrip(b" ").endswith(b"}"))
        self.assertLess(len(text) - len(text.rstrip(b" ")), 8)
        self.assertEqual(header, {"__metadata__": {"k": "v"},
                                  "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})
        self.assertEqual(blob[8 + n:], struct.pack("<ff", 1.0, -2.0))

    def test_reads_a_hand_built_file_with_unpadded_header_and_out_of_order_entries(self):
        data = struct.pack("<2i", 5, -7) + struct.pack("<d", 0.25)
        header = {"d": {"dtype": "F64", "shape": [1], "data_offsets": [8, 16]},
                  "i": {"dtype": "I32", "shape": [2, 1], "data_offsets": [0, 8]}}
        tensors, metadata = read_safetensors(self.write_bytes("h.safetensors", hand_built_file(header, data)))
        self.assertEqual(metadata, {})
        np.testing.assert_array_equal(tensors["i"], [[5], [-7]])
        np.testing.assert_array_equal(tensors["d"], [0.25])

    def assert_rejected(self, blob, *message_parts):
        path = self.write_bytes("bad.safetensors", blob)
        with self.assertRaises(ValueError) as caught:
            read_safetensors(path)
        message = str(caught.exception)
        self.assertIn("bad.safetensors", message)
        for part in message_parts:
            self.assertIn(part, message)

    def test_rejects_truncated_and_malformed_files_with_the_file_name_and_the_problem(self):
        good_header = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
        good = hand_built_file(good_header, b"\0" * 8)
        self.assert_rejected(good[:5], "truncated")
        self.assert_rejected(good[:20], "truncated")
        self.assert_rejected(good[:-1], "data_offsets")
        self.assert_rejected(good + b"\0\0\0\0", "trailing")
        self.assert_rejected(struct.pack("<Q", 4) + b"{no}", "JSON")
        self.assert_rejected(hand_built_file({"w": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}},
                                             b"\0" * 8), "Q7")
        self.assert_rejected(hand_built_file({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
                                             b"\0" * 8), "needs 12 bytes")
        self.assert_rejected(hand_built_file({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                                              "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}},
                                             b"\0" * 6), "overlap")
        self.assert_rejected(hand_built_file({"__metadata__": {"k": 3}}, b""), "__metadata__")

    def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(self):
        path = self.path("keep.safetensors")
        write_safetensors(path, {"w": np.ones(3, dtype=np.float32)}, {"v": "1"})
        before = file_bytes(path)
        with self.assertRaises(ValueError):
            write_safetensors(path, {"w": np.ones(3, dtype=np.float32), "bad": np.array(["text"])}, {"v": "2"})
        self.assertEqual(file_bytes(path), before)
        self.assertEqual(os.listdir(self.dir), ["keep.safetensors"])


class CheckpointTests(TempDir):
    def test_save_then_load_gives_an_identical_state_dict_and_config(self):
        torch.manual_seed(3)
        model = VAE(30, [20, 10], 4)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        save_vae(model, self.path("m.safetensors"), {"recon": "mse", "beta": 0.5})
        loaded = load_vae(self.path("m.safetensors"))
        self.assertEqual(list(loaded.state_dict()), list(model.state_dict()))
        for name, value in model.state_dict().items():
            self.assertTrue(torch.equal(loaded.state_dict()[name], value), name)
        self.assertEqual(loaded.checkpoint_config, {"model": "vae", "input": 30, "hidden": [20, 10], "latent": 4,
                                                    "recon": "mse", "beta": 0.5})
        tensors, metadata = read_safetensors(self.path("m.safetensors"))
        self.assertEqual((metadata["format"], metadata["version"]), ("vae-checkpoint", "1"))
        self.assertTrue(all(t.dtype == np.float32 for t in tensors.values()))
        self.assertEqual(list(tensors)[:3], ["enc.0.weight", "enc.0.bias", "enc.1.weight"])

    def checkpoint_like_the_csharp_one(self, extra_tensors=None, **metadata_changes):
        """A checkpoint written without save_vae: weights, Adam moments and unknown metadata and config keys."""
        model = VAE(12, [6], 3)
        tensors = {n: t.numpy() for n, t in model.state_dict().items()}
        for name in list(tensors):
            tensors["optim.m." + name] = np.full_like(tensors[name], 0.5)
            tensors["optim.v." + name] = np.full_like(tensors[name], 0.25)
        tensors.update(extra_tensors or {})
        config = {"model": "vae", "input": 12, "hidden": [6], "latent": 3, "recon": "bce", "beta": 1.0,
                  "epochs": 10, "future_key": [1, 2]}
        metadata = {"format": "vae-checkpoint", "version": "1", "config": json.dumps(config), "step": "4690"}
        metadata.update(metadata_changes)
        write_safetensors(self.path("c.safetensors"), tensors, metadata)
        return model, self.path("c.safetensors")

    def test_load_ignores_optimizer_tensors_and_unknown_keys(self):
        model, path = self.checkpoint_like_the_csharp_one()
        loaded = load_vae(path)
        for name, value in model.state_dict().items():
            self.assertTrue(torch.equal(loaded.state_dict()[name], value), name)

    def test_load_rejects_other_formats_versions_and_wrong_shapes(self):
        _, path = self.checkpoint_like_the_csharp_one(format="something-else")
        self.assertRaisesRegex(ValueError, "not a VAE checkpoint", load_vae, path)
        _, path = self.checkpoint_like_the_csharp_one(version="2")
        self.assertRaisesRegex(ValueError, "version '2'", load_vae, path)
        _, path = self.checkpoint_like_the_csharp_one(extra_tensors={"mu.bias": np.zeros(4, dtype=np.float32)})
        self.assertRaisesRegex(ValueError, r"'mu.bias' is float32 \[4\], expected float32 \[3\]", load_vae, path)


class FixtureTests(unittest.TestCase):
    def test_fixtures_hold_every_tensor_and_agree_with_a_float64_recomputation(self):
        for name in FIXTURE_NAMES:
            with self.subTest(name):
                tensors, metadata = read_safetensors(os.path.join(FIXTURES, f"vae_reference_{name}.safetensors"))
                config = json.loads(metadata["config"])
                self.assertEqual(metadata["generator"], "make_vae_fixtures.py")
                batch, size, latent = config["batch"], config["input"], config["latent"]
                model = VAE(size, config["hidden"], latent).double()
                names = list(model.state_dict())
                expected = (["x", "eps"] + names + ["loss", "recon", "kl", "mu", "logvar", "logits"]
                            + ["grad." + n for n in names])
                self.assertEqual(sorted(tensors), sorted(expected))
                self.assertEqual(tensors["x"].shape, (batch, size))
                self.assertEqual(tensors["eps"].shape, (batch, latent))
                self.assertTrue((tensors["x"] == 0).any() and (tensors["x"] == 1).any())
                self.assertTrue(((tensors["x"] >= 0) & (tensors["x"] <= 1)).all())
                for n in names:
                    self.assertEqual(tensors[n].dtype, np.float32, n)
                    self.assertEqual(tensors["grad." + n].dtype, np.float64, n)
                    if n.endswith("bias"):
                        self.assertTrue((tensors[n] != 0).all(), n)
                self.assertLess(np.abs(tensors["logvar"]).max(), 5.0)

                model.load_state_dict({n: torch.from_numpy(tensors[n]).double() for n in names})
                x = torch.from_numpy(tensors["x"]).double()
                logits, mu, logvar = model(x, torch.from_numpy(tensors["eps"]).double())
                loss, recon, kl = vae_loss(logits, x, mu, logvar, config["recon"], config["beta"])
                loss.backward()
                for key, value in [("loss", loss), ("recon", recon), ("kl", kl), ("mu", mu), ("logvar", logvar),
                                   ("logits", logits)]:
                    np.testing.assert_allclose(value.detach().numpy().reshape(tensors[key].shape), tensors[key],
                                               rtol=1e-12, atol=1e-12, err_msg=f"{name}: {key}")
                for n, p in model.named_parameters():
                    np.testing.assert_allclose(p.grad.numpy(), tensors["grad." + n], rtol=1e-12, atol=1e-12,
                                               err_msg=f"{name}: grad.{n}")

    def test_loss_matches_a_direct_numpy_formula(self):
        """The loss in the fixtures, recomputed from the stored logits/mu/logvar with plain numpy."""
        for name in FIXTURE_NAMES:
            with self.subTest(name):
                t, metadata = read_safetensors(os.path.join(FIXTURES, f"vae_reference_{name}.safetensors"))
                config = json.loads(metadata["config"])
                x, logits, mu, logvar = t["x"].astype(np.float64), t["logits"], t["mu"], t["logvar"]
                if config["recon"] == "bce":
                    per_pixel = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
                else:
                    per_pixel = (1 / (1 + np.exp(-logits)) - x) ** 2
                recon = per_pixel.sum() / x.shape[0]
                kl = -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum() / x.shape[0]
                np.testing.assert_allclose([recon, kl, recon + config["beta"] * kl],
                                           [t["recon"][0], t["kl"][0], t["loss"][0]], rtol=1e-12)


class HvaeFixtureTests(unittest.TestCase):
    OUTPUTS = ["mu1", "logvar1", "mu2", "logvar2", "prior_mu", "prior_logvar", "logits"]

    def test_fixtures_hold_every_tensor_and_agree_with_a_float64_recomputation(self):
        for name in HVAE_FIXTURE_NAMES:
            with self.subTest(name):
                tensors, metadata = read_safetensors(os.path.join(FIXTURES, f"hvae_reference_{name}.safetensors"))
                c = json.loads(metadata["config"])
                self.assertEqual(metadata["generator"], "make_vae_fixtures.py")
                model = HVAE(c["input"], c["hidden"], c["latent1"], c["hidden2"], c["latent2"]).double()
                names = list(model.state_dict())
                expected = (["x", "eps1", "eps2"] + names + ["objective", "loss", "recon", "kl1", "kl2"] + self.OUTPUTS
                            + ["grad." + n for n in names])
                self.assertEqual(sorted(tensors), sorted(expected))
                self.assertEqual(tensors["eps1"].shape, (c["batch"], c["latent1"]))
                self.assertEqual(tensors["eps2"].shape, (c["batch"], c["latent2"]))
                for n in names:
                    self.assertEqual(tensors[n].dtype, np.float32, n)
                    self.assertEqual(tensors["grad." + n].dtype, np.float64, n)
                for key in ("logvar1", "logvar2", "prior_logvar"):
                    self.assertLess(np.abs(tensors[key]).max(), 5.0, key)

                model.load_state_dict({n: torch.from_numpy(tensors[n]).double() for n in names})
                x = torch.from_numpy(tensors["x"]).double()
                out = model(x, torch.from_numpy(tensors["eps1"]).double(), torch.from_numpy(tensors["eps2"]).double())
                objective, loss, recon, kl1, kl2 = hvae_loss(out, x, c["recon"], c["beta"], c["free_bits"])
                objective.backward()
                scalars = [("objective", objective), ("loss", loss), ("recon", recon), ("kl1", kl1), ("kl2", kl2)]
                for key, value in scalars + [(k, out[k]) for k in self.OUTPUTS]:
                    np.testing.assert_allclose(value.detach().numpy().reshape(tensors[key].shape), tensors[key],
                                               rtol=1e-12, atol=1e-12, err_msg=f"{name}: {key}")
                for n, p in model.named_parameters():
                    np.testing.assert_allclose(p.grad.numpy(), tensors["grad." + n], rtol=1e-12, atol=1e-12,
                                               err_msg=f"{name}: grad.{n}")

    def test_losses_match_direct_numpy_formulas(self):
        """recon, both KLs, the loss and the free-bits objective from the stored network outputs with plain numpy."""
        for name in HVAE_FIXTURE_NAMES:
            with self.subTest(name):
                t, metadata = read_safetensors(os.path.join(FIXTURES, f"hvae_reference_{name}.safetensors"))
                c = json.loads(metadata["config"])
                x, logits = t["x"].astype(np.float64), t["logits"]
                batch = x.shape[0]
                if c["recon"] == "bce":
                    per_pixel = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
                else:
                    per_pixel = (1 / (1 + np.exp(-logits)) - x) ** 2
                mu1, lv1, mp, lp = t["mu1"], t["logvar1"], t["prior_mu"], t["prior_logvar"]
                kl1 = 0.5 * (lp - lv1 + (np.exp(lv1) + (mu1 - mp) ** 2) / np.exp(lp) - 1)
                kl2 = -0.5 * (1 + t["logvar2"] - t["mu2"] ** 2 - np.exp(t["logvar2"]))
                recon = per_pixel.sum() / batch
                loss = recon + c["beta"] * (kl1.sum() + kl2.sum()) / batch
                floor = c["free_bits"]
                objective = (recon + c["beta"] * (np.maximum(kl1.mean(0), floor).sum() + np.maximum(kl2.mean(0), floor).sum())
                             if floor > 0 else loss)
                np.testing.assert_allclose([recon, kl1.sum() / batch, kl2.sum() / batch, loss, objective],
                                           [t["recon"][0], t["kl1"][0], t["kl2"][0], t["loss"][0], t["objective"][0]],
                                           rtol=1e-12)
                if floor > 0:
                    self.assertNotAlmostEqual(objective, loss, places=3)


class RecipeTests(TempDir):
    def test_step_flops_follow_the_layer_sizes(self):
        # 784-400-400 | 20 (mu, logvar) | 20-400-400-784: sum(in*out) = 971200; first layer 313600.
        self.assertEqual(step_gemm_flops([(l.in_features, l.out_features) for l in VAE().linear_layers()], 128),
                         2 * 128 * (3 * 971200 - 313600))

    def test_idx_reader_scales_bytes_and_rejects_truncated_files(self):
        pixels = bytes([0, 255, 51, 102, 1, 2])
        good = struct.pack(">IIII", 0x803, 1, 2, 3) + pixels
        with gzip.open(self.path("good.gz"), "wb") as f:
            f.write(good)
        np.testing.assert_allclose(read_idx_images(self.path("good.gz")),
                                   [[0, 1, 0.2, 0.4, 1 / 255, 2 / 255]], rtol=1e-6)
        with gzip.open(self.path("short.gz"), "wb") as f:
            f.write(good[:-1])
        self.assertRaisesRegex(ValueError, "short.gz.*truncated", read_idx_images, self.path("short.gz"))


if __name__ == "__main__":
    unittest.main()

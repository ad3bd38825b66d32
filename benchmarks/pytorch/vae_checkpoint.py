#!/usr/bin/python3
"""Safetensors files with numpy alone, and the VAE checkpoint convention shared with the C# engine.

File layout: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON (padded with spaces to a multiple of 8)
    {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..}
then the raw little-endian tensor bytes; offsets count from the first byte after the header.

Checkpoint convention: metadata "format" = "vae-checkpoint", "version" = "1", "config" = a JSON string such as
{"model":"vae","input":784,"hidden":[400,400],"latent":20,"recon":"bce","beta":1.0} (unknown keys are ignored);
weights as F32 under their state_dict names (enc.0.weight, .., out.bias); Adam moments, if present, as
optim.m.<name> / optim.v.<name> (ignored when loading into torch).

    python3 vae_checkpoint.py FILE    prints the metadata and each tensor's name, shape, dtype and sum (numpy only).
"""
import json
import os
import struct
import sys
import tempfile

import numpy as np

# safetensors dtype code -> little-endian numpy dtype.
DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in DTYPES.items()}

CHECKPOINT_FORMAT = "vae-checkpoint"
CHECKPOINT_VERSION = "1"
MAX_HEADER_BYTES = 100 * 1024 * 1024
HERE = os.path.dirname(os.path.abspath(__file__))


def read_safetensors(path):
    """Reads a safetensors file: (dict name -> np.ndarray in file order, metadata dict str -> str).

    Raises ValueError naming the file and what is wrong for a truncated or malformed file.
    """
    with open(path, "rb") as f:
        blob = f.read()
    where = f"safetensors file '{path}'"
    if len(blob) < 8:
        raise ValueError(f"{where} is {len(blob)} bytes long, shorter than the 8-byte header length; "
                         f"the file is truncated or not a safetensors file.")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > MAX_HEADER_BYTES or 8 + header_len > len(blob):
        raise ValueError(f"{where} declares a {header_len}-byte header but holds {len(blob) - 8} bytes after the "
                         f"length; the file is truncated or not a safetensors file.")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{where} has a header that is not UTF-8 JSON ({e}); the file is corrupt.") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where} has a JSON header that is a {type(header).__name__}, expected an object.")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError(f"{where}: __metadata__ must map strings to strings; found {metadata!r}.")

    data = memoryview(blob)[8 + header_len:]
    tensors = {}
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) - {"dtype", "shape", "data_offsets"} or len(info) != 3:
            raise ValueError(f"{where}: tensor '{name}' must have exactly dtype, shape and data_offsets; found {info!r}.")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if code not in DTYPES:
            raise ValueError(f"{where}: tensor '{name}' has dtype {code!r}; supported: {sorted(DTYPES)}.")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise ValueError(f"{where}: tensor '{name}' has shape {shape!r}; expected a list of non-negative integers.")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= len(data)):
            raise ValueError(f"{where}: tensor '{name}' has data_offsets {offsets!r} outside the {len(data)} data "
                             f"bytes; the file is truncated or corrupt.")
        dtype = DTYPES[code]
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if offsets[1] - offsets[0] != expected:
            raise ValueError(f"{where}: tensor '{name}' of shape {shape} and dtype {code} needs {expected} bytes but "
                             f"data_offsets {offsets} span {offsets[1] - offsets[0]}.")
        spans.append((offsets[0], offsets[1], name))
        array = np.frombuffer(data[offsets[0]:offsets[1]], dtype=dtype).reshape(shape)
        tensors[name] = array.astype(dtype.newbyteorder("="), copy=True)

    # The data section must be covered exactly once, in order, with no gaps or overlaps (as the format requires).
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise ValueError(f"{where}: tensor '{name}' starts at byte {begin} but the previous tensor ends at "
                             f"{position}; the data section has a gap or overlap.")
        position = end
    if position != len(data):
        raise ValueError(f"{where}: the tensors cover {position} bytes but the data section holds {len(data)}; "
                         f"the file has trailing bytes or is corrupt.")
    return tensors, dict(metadata)


def write_safetensors(path, tensors, metadata=None):
    """Writes tensors (name -> numpy array, in the given order) and metadata (str -> str) atomically.

    The bytes go to a temporary file in the same folder, which is flushed, synced and renamed over path, so an
    existing file is either kept whole or replaced whole.
    """
    metadata = dict(metadata or {})
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValueError(f"safetensors metadata must map strings to strings; '{k}' -> {v!r} does not.")
    header = {"__metadata__": metadata} if metadata else {}
    chunks = []
    offset = 0
    for name, value in tensors.items():
        if name == "__metadata__" or not isinstance(name, str):
            raise ValueError(f"'{name}' cannot be a tensor name in a safetensors file.")
        array = np.asarray(value)
        code = CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
        if code is None:
            raise ValueError(f"tensor '{name}' has numpy dtype {array.dtype}, which safetensors cannot hold here; "
                             f"convert it to one of {sorted(DTYPES)}.")
        raw = np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)

    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(f.fileno(), 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
            f.write(struct.pack("<Q", len(header_bytes)))
            f.write(header_bytes)
            for raw in chunks:
                f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


def write_fixtures(fixtures, folder, check_only):
    """Writes each (file name, make) fixture into folder, make() returning (tensors, metadata, loss); with check_only,
    writes none and compares fresh bytes with the stored file instead. Returns 1 when a check differs, else 0."""
    differing = []
    for file_name, make in fixtures:
        tensors, metadata, loss = make()
        name = file_name.removesuffix(".safetensors")
        path = os.path.join(folder, file_name)
        if check_only:
            with tempfile.TemporaryDirectory() as scratch:
                fresh = os.path.join(scratch, "fresh.safetensors")
                write_safetensors(fresh, tensors, metadata)
                same = os.path.exists(path) and _file_bytes(fresh) == _file_bytes(path)
            print(f"{name}: {'identical' if same else 'DIFFERS from'} {file_name}")
            if not same:
                differing.append(name)
        else:
            write_safetensors(path, tensors, metadata)
            stored, _ = read_safetensors(path)
            print(f"{file_name}: loss {loss:.6f}, {len(stored)} tensors, {os.path.getsize(path)} bytes")
    return 1 if differing else 0


def _file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def parse_config(metadata, path):
    """The checkpoint's model config (dict) from its metadata, after checking format and version."""
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"'{path}' is not a VAE checkpoint: metadata 'format' is {metadata.get('format')!r}, "
                         f"expected '{CHECKPOINT_FORMAT}'.")
    if metadata.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"'{path}' is checkpoint version {metadata.get('version')!r}; this reader understands "
                         f"version '{CHECKPOINT_VERSION}'.")
    try:
        config = json.loads(metadata["config"])
    except (KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"'{path}' has no readable 'config' JSON in its metadata ({e}).") from None
    if config.get("model") != "vae":
        raise ValueError(f"'{path}' holds model {config.get('model')!r}; only 'vae' is supported.")
    for key in ("input", "hidden", "latent"):
        if key not in config:
            raise ValueError(f"'{path}': checkpoint config lacks '{key}'; found keys {sorted(config)}.")
    return config


def load_vae(path):
    """A torch VAE with the weights of the checkpoint at path (its config is on the model as .checkpoint_config)."""
    import torch
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    from vae_model import VAE

    tensors, metadata = read_safetensors(path)
    config = parse_config(metadata, path)
    model = VAE(config["input"], config["hidden"], config["latent"])
    state = {}
    for name, param in model.state_dict().items():
        if name not in tensors:
            raise ValueError(f"'{path}' lacks weight tensor '{name}' (shape {list(param.shape)}); "
                             f"it holds {sorted(tensors)}.")
        array = tensors[name]
        if tuple(array.shape) != tuple(param.shape) or array.dtype.kind != "f":
            raise ValueError(f"'{path}': tensor '{name}' is {array.dtype} {list(array.shape)}, expected float32 "
                             f"{list(param.shape)} for config {metadata['config']}.")
        state[name] = torch.from_numpy(array.astype(np.float32))
    model.load_state_dict(state)
    model.checkpoint_config = config
    return model


def save_vae(model, path, config=None):
    """Writes model's weights as F32 with the checkpoint metadata; config adds keys such as recon and beta."""
    full_config = model.config()
    full_config.update({"recon": "bce", "beta": 1.0})
    full_config.update(config or {})
    for key in ("input", "hidden", "latent"):
        if full_config[key] != model.config()[key]:
            raise ValueError(f"save_vae: config '{key}' = {full_config[key]} disagrees with the model's "
                             f"{model.config()[key]}.")
    import torch
    tensors = {name: t.detach().to(torch.float32).cpu().numpy() for name, t in model.state_dict().items()}
    metadata = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                "config": json.dumps(full_config, separators=(",", ":")),
                "generator": "benchmarks/pytorch/vae_checkpoint.py", "torch_version": torch.__version__}
    write_safetensors(path, tensors, metadata)


def main(argv):
    if len(argv) != 1:
        print("usage: python3 vae_checkpoint.py FILE.safetensors", file=sys.stderr)
        return 2
    tensors, metadata = read_safetensors(argv[0])
    print(f"{argv[0]}: {len(tensors)} tensors")
    print("metadata:")
    for key, value in metadata.items():
        print(f"  {key}: {value}")
    print("tensors:")
    width = max((len(n) for n in tensors), default=4)
    for name, array in tensors.items():
        code = CODE_OF_KIND[(array.dtype.kind, array.dtype.itemsize)]
        total = array.astype(np.float64).sum() if array.size else 0.0
        print(f"  {name:<{width}}  {code:<4} {str(list(array.shape)):<14} sum={total:.9g}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (OSError, ValueError) as e:
        print(f"vae_checkpoint.py: {e}", file=sys.stderr)
        sys.exit(1)

"""DLRM in PyTorch, written from FACTS.md §1 and the semantics of Facebook's dlrm_s_pytorch.py and
torchrec's LowRankCrossNet (not from dlrm's C++): the independent side of the parity tests and the
PyTorch peer of the benchmarks. Also loads a .dlrm file's weights into it."""
import numpy as np
import torch
import torch.nn as nn

from dlrm_file import read_dlrm_tensor, read_dlrm_metadata


class TorchDLRM(nn.Module):
    """Written from FACTS.md §1 and Facebook's dlrm_s_pytorch.py semantics, not from dlrm's code."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg["dim"]

        def mlp(widths_in, widths, last_relu):
            layers, n = [], widths_in
            for i, w in enumerate(widths):
                layers.append(nn.Linear(n, w))
                if last_relu or i + 1 < len(widths):
                    layers.append(nn.ReLU())
                n = w
            return nn.Sequential(*layers)

        self.bot = mlp(cfg["dense_features"], cfg["bottom"], True)
        self.embs = nn.ModuleList(nn.EmbeddingBag(t["rows"], d, mode="sum") for t in cfg["tables"])
        f = len(cfg["tables"]) + 1
        if cfg["interaction"] == "dot":
            diag = cfg.get("dot_diag", False)
            top_in = d + f * (f - 1) // 2 + (f if diag else 0)
            off = 1 if diag else 0
            self.li = torch.tensor([i for i in range(f) for j in range(i + off)])
            self.lj = torch.tensor([j for i in range(f) for j in range(i + off)])
        else:
            top_in = f * d
        if cfg["interaction"] == "dcn":
            w = f * d
            r = cfg["dcn_rank"]
            self.V = nn.ModuleList(nn.Linear(w, r, bias=False) for _ in range(cfg["dcn_layers"]))
            self.W = nn.ModuleList(nn.Linear(r, w, bias=True) for _ in range(cfg["dcn_layers"]))
        self.top = mlp(top_in, cfg["top"], False)

    def forward(self, dense, ids):
        x = self.bot(dense)
        pooled = [emb(i) for emb, i in zip(self.embs, ids)]  # 2-D input: one bag per row
        inter = self.cfg["interaction"]
        if inter == "dot":
            t = torch.cat([x] + pooled, dim=1).view(x.shape[0], -1, x.shape[1])
            z = torch.bmm(t, t.transpose(1, 2))
            r = torch.cat([x, z[:, self.li, self.lj]], dim=1)
        elif inter == "cat":
            r = torch.cat([x] + pooled, dim=1)
        else:
            x0 = torch.cat([x] + pooled, dim=1)
            r = x0
            for v, w in zip(self.V, self.W):
                r = x0 * w(v(r)) + r
        return torch.sigmoid(self.top(r)).squeeze(1)


def tensors_of(net, cfg):
    """Our tensor names (engine/model.h) for the torch modules, in file order, as float32 arrays."""
    return [(n, p.detach().numpy().astype(np.float32)) for n, p in _named_params(net, cfg)]


def from_dlrm(path):
    """A TorchDLRM with the weights of an fp32 .dlrm model (f32/f16/bf16 tables become f32)."""
    meta = read_dlrm_metadata(path)
    cfg = meta["model"]["architecture"]
    net = TorchDLRM(cfg)
    with torch.no_grad():
        for name, param in _named_params(net, cfg):
            param.copy_(torch.from_numpy(read_dlrm_tensor(path, name, meta).astype(np.float32)))
    return net, cfg


def _named_params(net, cfg):
    lin = [m for m in net.bot if isinstance(m, nn.Linear)]
    for i, m in enumerate(lin):
        yield f"bottom.{i}.weight", m.weight
        yield f"bottom.{i}.bias", m.bias
    if cfg["interaction"] == "dcn":
        for l, (v, w) in enumerate(zip(net.V, net.W)):
            yield f"dcn.{l}.V", v.weight
            yield f"dcn.{l}.W", w.weight
            yield f"dcn.{l}.bias", w.bias
    lin = [m for m in net.top if isinstance(m, nn.Linear)]
    for i, m in enumerate(lin):
        yield f"top.{i}.weight", m.weight
        yield f"top.{i}.bias", m.bias
    for t, e in enumerate(net.embs):
        yield f"emb.{t}", e.weight

"""Importers and exporters: PyTorch modules (torch.fx) and, in and out, the reverse builders."""

"""TrainingSignals: train/lr and train/grad_norm (before clipping) on the logged steps of the CSV log, and the run's
config.yaml as the loggers' hyper-parameters."""
from __future__ import annotations

import csv

import lightning.pytorch as pl
import pytest
import torch
import yaml
from lightning.pytorch.loggers import CSVLogger

from tuneforge.lightning.callbacks import TrainingSignals


class Regression(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        return {"optimizer": optimizer, "lr_scheduler": {
            "scheduler": torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** step), "interval": "step"}}


def test_lr_and_grad_norm_before_clipping_every_step_and_hparams(tmp_path):
    torch.manual_seed(0)
    x, y = torch.randn(8, 4) * 10, torch.randn(8, 1) * 10  # large gradients: clipping at 0.01 acts
    model = Regression()
    reference = torch.nn.functional.mse_loss(model.layer(x), y)
    reference.backward()
    expected = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()])).item()
    model.zero_grad()
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"peft": {"name": "lora", "r": 8}, "seed": 3}))
    logger = CSVLogger(tmp_path, name="logs", version="")
    trainer = pl.Trainer(max_steps=3, logger=logger, callbacks=[TrainingSignals()], gradient_clip_val=0.01,
                         log_every_n_steps=1, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(model, torch.utils.data.DataLoader(list(zip(x, y)), batch_size=8))
    rows = list(csv.DictReader((tmp_path / "logs" / "metrics.csv").open()))
    assert [float(r["train/lr"]) for r in rows] == pytest.approx([0.1, 0.05, 0.025])
    norms = [float(r["train/grad_norm"]) for r in rows]
    assert abs(norms[0] - expected) < 1e-4 * expected and expected > 1.0  # the norm before clipping to 0.01
    assert yaml.safe_load((tmp_path / "logs" / "hparams.yaml").read_text()) == {"peft": {"name": "lora", "r": 8},
                                                                                "seed": 3}


class Recording(Regression):
    """Records the step of every value it is asked to log."""

    def __init__(self) -> None:
        super().__init__()
        self.logged: list[tuple[int, str]] = []

    def log(self, name, *args, **kwargs):
        self.logged.append((self.trainer.global_step, name))
        super().log(name, *args, **kwargs)


def test_signals_are_measured_only_on_logged_steps_and_hparams_come_from_the_record(tmp_path):
    torch.manual_seed(0)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    model, params = Recording(), {"peft": {"name": "lora"}, "seed": 5}  # no config.yaml: the record is passed
    trainer = pl.Trainer(max_steps=4, logger=CSVLogger(tmp_path, name="logs", version=""),
                         callbacks=[TrainingSignals(params)], log_every_n_steps=2, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(model, torch.utils.data.DataLoader(list(zip(x, y)), batch_size=2))
    assert [s for s, name in model.logged if name == "train/grad_norm"] == [1, 3]  # steps 2 and 4 of 4
    rows = [r for r in csv.DictReader((tmp_path / "logs" / "metrics.csv").open()) if r["train/grad_norm"]]
    assert [int(r["step"]) for r in rows] == [1, 3] and all(float(r["train/lr"]) > 0 for r in rows)
    assert yaml.safe_load((tmp_path / "logs" / "hparams.yaml").read_text()) == params

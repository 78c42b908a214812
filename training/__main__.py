"""Command line: ``python -m training {list,train,export,evaluate,data,all}``.

    python -m training train vae --epochs 200 --seed 0
    python -m training export vae
    python -m training all              # retrain and re-export every shipped model
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from training.data import DataError
from training.export import DEFAULT_EXPORT_DIR, export, export_demo_data
from training.models import MODELS
from training.train import DEFAULT_CHECKPOINT_DIR, train


def _data_spec(value: str) -> str:
    if value in ("mnist5k", "digits") or (value.startswith("idx:") and len(value) > 4):
        return value
    raise argparse.ArgumentTypeError(f"expected mnist5k, digits or idx:PATH, got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description="Train and export the lab's models.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="the models this package can train")

    def add_dirs(p: argparse.ArgumentParser, export_dir: bool = True) -> None:
        p.add_argument("--checkpoint-dir", type=Path, default=DEFAULT_CHECKPOINT_DIR)
        if export_dir:
            p.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)

    def add_train_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--epochs", type=int, default=None, help="default: the model's recipe")
        p.add_argument("--data", type=_data_spec, default="mnist5k", help="mnist5k | digits | idx:PATH")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
        p.add_argument("--limit", type=int, default=None, help="train on the first N images only (smoke tests)")

    p = sub.add_parser("train", help="train one model and write its checkpoint")
    p.add_argument("model", choices=list(MODELS))
    add_train_args(p)
    add_dirs(p, export_dir=False)

    p = sub.add_parser("export", help="export a checkpoint to ONNX and write its model card")
    p.add_argument("model", choices=list(MODELS))
    p.add_argument("--iwae-k", type=int, default=200, help="importance samples for the log p(x) estimate")
    add_dirs(p)

    p = sub.add_parser("data", help="write the demo data the app shows (the test split)")
    p.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)

    p = sub.add_parser("all", help="retrain and re-export every shipped model, and the demo data")
    add_train_args(p)
    p.add_argument("--iwae-k", type=int, default=200)
    add_dirs(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            for spec in MODELS.values():
                print(f"{spec.name:8s} {spec.title:28s} {spec.family:16s} density: {spec.density}")
        elif args.command == "train":
            path = _train(args, args.model)
            if path is not None:
                print(f"wrote {path}")
        elif args.command == "export":
            card = export(args.model, checkpoint_dir=args.checkpoint_dir, export_dir=args.export_dir, iwae_k=args.iwae_k)
            print(f"wrote {card}")
            print(json.dumps(json.loads(card.read_text())["metrics"], indent=2))
        elif args.command == "data":
            print(f"wrote {export_demo_data(args.export_dir)}")
        elif args.command == "all":
            start = time.perf_counter()
            print(f"wrote {export_demo_data(args.export_dir)}")
            for name in MODELS:
                _train(args, name)
                card = export(name, checkpoint_dir=args.checkpoint_dir, export_dir=args.export_dir, iwae_k=args.iwae_k)
                print(f"wrote {card}")
            print(f"all models retrained and exported in {time.perf_counter() - start:.0f} s")
    except (DataError, FileNotFoundError, KeyError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _train(args: argparse.Namespace, name: str) -> Path | None:
    return train(
        name,
        epochs=args.epochs,
        data=args.data,
        seed=args.seed,
        device=args.device,
        checkpoint_dir=args.checkpoint_dir,
        limit=args.limit,
    )


if __name__ == "__main__":
    sys.exit(main())

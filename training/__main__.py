"""Command line: ``python -m training {list,train,export,evaluate,data,ganlab,features,density,density-maps,views,report,all}``.

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

    def add_protocol(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--quick",
            action="store_true",
            help="a small evaluation (200 samples, 2 seeds, IWAE k = 4 and 8) for smoke tests; the shipped cards use the full one",
        )

    def add_train_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--epochs", type=int, default=None, help="default: the model's recipe")
        p.add_argument("--data", type=_data_spec, default="mnist5k", help="mnist5k | digits | idx:PATH")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
        p.add_argument(
            "--limit",
            type=int,
            default=None,
            help="train on N images only, the first of each class in turn (a class-balanced subset, for smoke tests)",
        )

    p = sub.add_parser("train", help="train one model and write its checkpoint")
    p.add_argument("model", choices=list(MODELS))
    add_train_args(p)
    add_dirs(p, export_dir=False)

    p = sub.add_parser("export", help="export a checkpoint to ONNX and write its model card")
    p.add_argument("model", choices=list(MODELS))
    add_protocol(p)
    add_dirs(p)

    p = sub.add_parser(
        "evaluate", help="recompute every figure in the model cards (all, or the models named) from their ONNX files"
    )
    p.add_argument("models", nargs="*", choices=[[], *MODELS], metavar="model")
    add_protocol(p)
    p.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)

    p = sub.add_parser("data", help="write the demo data the app shows (the test split)")
    p.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)

    p = sub.add_parser("ganlab", help="train the 2-D GAN lab runs and export their snapshots")
    add_dirs(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="default: each setting's own")

    p = sub.add_parser("features", help="the few-label classification study on the AE and VAE encoders")
    add_dirs(p)
    p.add_argument("--data", type=_data_spec, default="mnist5k")
    p.add_argument("--seeds", type=int, default=5, help="label-subset draws per label count")
    p.add_argument("--steps", type=int, default=300, help="fine-tuning steps")
    p.add_argument("--labels", type=int, nargs="+", default=None, help="label counts (default 10 50 100 500 4050)")

    p = sub.add_parser("density", help="train and export the 1-D and 2-D toy density models")
    add_dirs(p)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--datasets", nargs="*", default=None, help="2-D sets (default: all; none: no 2-D)")
    p.add_argument("--datasets-1d", nargs="*", default=None, help="1-D sets (default: all; none: no 1-D)")
    p.add_argument("--kinds", nargs="+", default=None, help="2-D models to (re)train (default: all)")

    p = sub.add_parser("density-maps", help="recompute the Density in 2-D page's maps from the exported models")
    add_dirs(p)

    p = sub.add_parser(
        "views", help="recompute what Compare, Complete, Out-of-distribution and Latent structure show first"
    )
    p.add_argument("models", nargs="*", choices=[[], *MODELS], metavar="model")
    p.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)

    p = sub.add_parser("report", help="the README's table of shipped models and their training time, from the cards")
    p.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)
    p.add_argument("--readme", type=Path, default=None, help="also write it between this file's report markers")

    p = sub.add_parser("all", help="retrain and re-export every shipped model, and the demo data")
    add_train_args(p)
    add_protocol(p)
    add_dirs(p)
    return parser


def _write_density_maps(export_dir: Path) -> None:
    from training.studies.density import write_density_maps

    t = time.perf_counter()
    path = write_density_maps(export_dir)
    print(f"wrote {path} in {time.perf_counter() - t:.1f} s" if path else "no density study: no 2-D maps written")


def _write_views(export_dir: Path, names: list[str] | None = None) -> None:
    """Store the views the app shows first (inference.views) for the models named (default: every shipped one)."""
    from inference import views
    from inference.data import DEMO_DATA_FILE
    from inference.registry import load_model, scan

    if not (export_dir / DEMO_DATA_FILE).is_file():
        print(f"no {DEMO_DATA_FILE} in {export_dir}: no views written (run `python -m training data`)")
        return
    t = time.perf_counter()
    shipped = {name for name, entry in scan(export_dir).items() if entry.available}
    names = [n for n in (names or sorted(shipped)) if n in shipped]
    path = views.update(export_dir, {n: load_model(n, export_dir) for n in names}, keep=shipped)
    print(f"wrote {path} ({len(names)} models) in {time.perf_counter() - t:.1f} s")


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
            card = export(
                args.model, checkpoint_dir=args.checkpoint_dir, export_dir=args.export_dir, protocol=_protocol(args)
            )
            print(f"wrote {card}")
            _write_views(args.export_dir, [args.model])
            metrics = json.loads(card.read_text())["metrics"]
            print(json.dumps({k: v for k, v in metrics.items() if k != "test_nll_per_image"}, indent=2))
        elif args.command == "evaluate":
            from training.evaluate import evaluate_exported

            for path in evaluate_exported(args.models, args.export_dir, _protocol(args)):
                print(f"updated {path}")
        elif args.command == "features":
            from training.studies.features import APP_LABELS, LABEL_COUNTS, run_study

            counts = tuple(args.labels) if args.labels else LABEL_COUNTS
            app_labels = APP_LABELS if APP_LABELS in counts else counts[0]
            card = run_study(
                args.checkpoint_dir, args.export_dir, args.data, counts, args.seeds, args.steps, app_labels
            )
            print(f"wrote {card}")
        elif args.command == "density":
            from training.studies.density import run_density

            card = run_density(
                args.export_dir, args.checkpoint_dir, args.steps, args.datasets, args.datasets_1d, args.seed, args.kinds
            )
            print(f"wrote {card}")
            _write_density_maps(args.export_dir)
        elif args.command == "density-maps":
            _write_density_maps(args.export_dir)
        elif args.command == "views":
            _write_views(args.export_dir, args.models)
        elif args.command == "report":
            from training.report import report, write_readme

            print(report(args.export_dir))
            if args.readme is not None:
                print(f"{'updated' if write_readme(args.readme, args.export_dir) else 'unchanged'}: {args.readme}")
        elif args.command == "data":
            print(f"wrote {export_demo_data(args.export_dir)}")
            _write_views(args.export_dir)  # Compare's rows show test digits
        elif args.command == "ganlab":
            from training.studies.ganlab import export_lab

            card = export_lab(args.export_dir, seed=args.seed, steps=args.steps, checkpoint_dir=args.checkpoint_dir)
            print(f"wrote {card}")
            _write_density_maps(args.export_dir)  # the 2-D maps include the lab's generators
        elif args.command == "all":
            start = time.perf_counter()
            print(f"wrote {export_demo_data(args.export_dir)}")
            for name in MODELS:
                _train(args, name)
                card = export(
                    name, checkpoint_dir=args.checkpoint_dir, export_dir=args.export_dir, protocol=_protocol(args)
                )
                print(f"wrote {card}")
            from training.studies.features import run_study
            from training.studies.ganlab import export_lab

            print(f"wrote {export_lab(args.export_dir, seed=args.seed, checkpoint_dir=args.checkpoint_dir)}")
            print(f"wrote {run_study(args.checkpoint_dir, args.export_dir)}")
            from training.studies.density import run_density

            print(f"wrote {run_density(args.export_dir, args.checkpoint_dir, seed=args.seed)}")
            _write_density_maps(args.export_dir)
            _write_views(args.export_dir)
            print(f"all models retrained and exported in {time.perf_counter() - start:.0f} s")
    except (DataError, FileNotFoundError, KeyError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _protocol(args: argparse.Namespace):
    from training.evaluate import FULL, QUICK

    return QUICK if args.quick else FULL


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

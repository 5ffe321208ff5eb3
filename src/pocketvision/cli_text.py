"""Human-readable output of the CLI (the ``--json`` documents are in cli.py)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pocketvision.model.novelty import rejected_share

# emoji=False: a class named :x: is a class, not an emoji code.
console = Console(soft_wrap=True, emoji=False)


def _as_text(value) -> str:
    """User text (a class or file name, a message quoting one) as text: rich markup
    in it (``[@x=(]``, ``[lite2]``) is shown, never interpreted."""
    return escape(str(value))


def _percent(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


SKIPPED_SHOWN = 10  # the rest are counted by reason; --json lists every one


def print_skipped(skipped: list[dict]) -> None:
    if not skipped:
        return
    from collections import Counter

    console.print(f"[yellow]Skipped {len(skipped)} unreadable file(s):[/]")
    for entry in skipped[:SKIPPED_SHOWN]:
        console.print(f"  {_as_text(entry['path'])}: {_as_text(entry['reason'])}", highlight=False)
    rest = Counter(entry["reason"] for entry in skipped[SKIPPED_SHOWN:])
    for reason, count in rest.most_common():
        console.print(f"  ... and {count} more: {_as_text(reason)}", highlight=False)
    if rest:
        console.print("  (--json lists every file)", highlight=False)


def print_training(result, backbone: str, replaced: bool = False) -> None:
    console.print(f"Trained [bold]{_as_text(backbone)}[/] on {result.train_images} images "
                  f"({result.val_images} for validation) in {result.seconds:.1f} s")
    console.print(f"  classes: {_as_text(', '.join(result.classes))}", highlight=False)
    console.print(f"  validation accuracy: [bold]{_percent(result.val_accuracy)}[/]")
    console.print(f"  features: {result.features.computed} computed, "
                  f"{result.features.cached} from cache")
    print_skipped(result.skipped)
    for warning in result.warnings:
        console.print(f"[yellow]note: {_as_text(warning)}[/]", highlight=False)
    console.print(f"Bundle: [bold]{_as_text(result.bundle)}[/]" +
                  (" (it replaced the one that was there)" if replaced else ""), highlight=False)


def print_evaluation(evaluation) -> None:
    metrics = evaluation.metrics
    table = Table(title=f"accuracy {_percent(metrics['accuracy'])} on {metrics['count']} images, "
                        f"calibration error {metrics['ece']:.3f}")
    for column in ("class", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name, scores in metrics["per_class"].items():
        table.add_row(_as_text(name), f"{scores['precision']:.2f}", f"{scores['recall']:.2f}",
                      f"{scores['f1']:.2f}", str(scores["support"]))
    console.print(table)
    if evaluation.seen_in_training:
        console.print(f"[yellow]{evaluation.seen_in_training} of {metrics['count']} images were "
                      "used for training; accuracy on them is not a fair measure. Evaluate on "
                      "images the model has not seen (e.g. DATA/val).[/]")
    if evaluation.novelty is not None and len(evaluation.novelty):
        console.print(f"Unknown detection: {_percent(rejected_share(evaluation.novelty))} of these "
                      "known images would be called 'unknown' (the threshold accepts about 95 % "
                      "of them).")
    if evaluation.unknown is not None:
        found = evaluation.unknown
        console.print(f"Of {found['images']} images of no known class, {_percent(found['rejected'])} "
                      f"are called 'unknown'; AUROC {found['auroc']:.3f} (1.0 = always told apart).")
    print_skipped(evaluation.skipped)
    for name, path in evaluation.report.items():
        console.print(f"  {name}: {_as_text(path)}", highlight=False)


def print_predictions(results: list[dict]) -> None:
    for entry in results:
        if entry.get("error"):
            console.print(f"[red]{_as_text(entry['path'])}: {_as_text(entry['error'])}[/]", highlight=False)
            continue
        ranked = ", ".join(f"{k} {v:.1%}" for k, v in list(entry["probabilities"].items())[:3])
        novelty = f", novelty {entry['novelty']:.2f}" if "novelty" in entry else ""
        console.print(f"{_as_text(entry['path'])}: [bold]{_as_text(entry['label'])}[/]  "
                      f"({_as_text(ranked)}{novelty})", highlight=False)


def print_backbones(rows: list[dict]) -> None:
    """One block per backbone (a table of five columns is unreadable at 80 columns):
    name, input and features, whether its weights are here; then what it is."""
    for row in rows:
        status = "[green]weights available[/]" if row["weights_available"] else "[yellow]weights missing[/]"
        console.print(f"[bold]{_as_text(row['name'])}[/]  {row['input_size']} px · "
                      f"{row['feature_dim']} features · {status}", highlight=False)
        console.print(f"  {_as_text(row['description'])}", highlight=False)
    console.print("Weights files (present, or where they would be looked for):")
    for row in rows:
        for where in row["weights"].split(", "):
            console.print(f"  {row['name']}: {_as_text(where)}", highlight=False)
    if not all(row["weights_available"] for row in rows):
        console.print("A missing one is downloaded on first use where there is a network, "
                      "or pass --weights FILE.")


def print_demo(summary: dict) -> None:
    train = summary["train"]
    console.print(f"Trained on the bundled sample ({_as_text(', '.join(train['classes']))}): "
                  f"{train['train_images']} training images, {train['val_images']} held out")
    console.print(f"Validation accuracy: [bold]{_percent(train['val_accuracy'])}[/] "
                  f"in {train['seconds']:.1f} s")
    console.print(f"Model:  {_as_text(summary['bundle'])}", highlight=False)
    for name, path in summary["report"].items():
        console.print(f"Report: {_as_text(path)}", highlight=False)
    print_predictions(summary["examples"])
    console.print("Next: pocketvision train YOUR_FOLDER --out model.pvb")


def print_export(report, out) -> None:
    table = Table(title=f"Exports in {_as_text(out)}, verified on {_as_text(report.image_source)}")
    for column in ("format", "precision", "top-1 agreement", "max prob diff", "accuracy",
                   "latency", "size"):
        table.add_column(column, justify="left" if column in ("format", "precision") else "right")
    notes = []  # why a file was not run: below the table, so its columns stay narrow
    for e in report.exports:
        size = "" if e.bytes is None else f"{e.bytes / 1e6:.1f} MB"
        if e.size_vs_fp32 is not None:
            size += f" ({e.size_vs_fp32:.0%})"
        if not e.ran:
            notes.append(f"({len(notes) + 1}) {e.format} {e.precision}: {e.why_not_ran}")
            colour = "dim" if e.bytes is None else "yellow"
            table.add_row(e.format, e.precision, f"[{colour}]not run ({len(notes)})[/]",
                          "", "", "", size)
            continue
        table.add_row(e.format, e.precision, f"{e.top1_agreement:.1%}",
                      f"{e.max_prob_diff:.1e}", _percent(e.accuracy),
                      f"{e.latency_ms:.1f} ms", size)
    console.print(table)
    for note in notes:
        console.print(_as_text(note), highlight=False)
    console.print(f"Report: {_as_text(out)}/report.md · golden image for apps: {_as_text(out)}/golden.png + "
                  "golden.json", highlight=False)


def print_bench(results: list[dict], folder) -> None:
    threads = results[0].get("threads", 1) if results else 1
    table = Table(title=f"Latency on this machine, batch 1, {threads} thread"
                        f"{'s' if threads > 1 else ''} ({_as_text(folder)})")
    for column in ("format", "precision", "latency", "vs torch eager", "runtime"):
        table.add_column(column, justify="right" if column in ("latency", "vs torch eager")
                         else "left")
    for r in results:
        if r["latency_ms"] is None:
            table.add_row(r["format"], r["precision"], "[dim]not run[/]", "", _as_text(r["why_not_ran"]))
            continue
        table.add_row(r["format"], r["precision"], f"{r['latency_ms']:.2f} ms",
                      f"{r['vs_eager']:.2f}x", r["runtime"])
    console.print(table)


def print_contract(path, found: dict) -> None:
    steps = found["preprocessing"]
    console.print(f"[bold]{_as_text(path)}[/] ({_as_text(found['format'])}, {_as_text(found['precision'])})",
                  highlight=False)
    console.print(f"  labels: {_as_text(', '.join(found['labels']))}", highlight=False)
    shape = "x".join(str(d) for d in found["input"]["shape"])
    console.print(_as_text(f"  input '{found['input']['name']}': {shape} {found['input']['layout']} "
                     f"{found['input']['dtype']}, RGB values {found['input']['range']}"),
                  highlight=False)
    console.print(_as_text(f"  caller: resize shorter side to {steps['resize']}, centre-crop "
                     f"{steps['crop']}, {_caller_scaling(found['input'], steps)}"), highlight=False)
    if steps.get("normalization_in_graph"):
        console.print(_as_text(f"  inside the model: normalization {steps['normalization_in_graph']}"),
                      highlight=False)


def _caller_scaling(given: dict, steps: dict) -> str:
    """What the caller does to the pixels after cropping: nothing when the file takes
    0-255 values (Core ML scales by 1/255 inside), else divide by 255 and, where the
    normalization is not inside the model, subtract the mean and divide by std."""
    if given["range"] == [0, 255]:
        return "pass the 0-255 values as they are (the model scales them inside)"
    return "divide by 255" + ("" if steps["mean"] is None else
                              f", subtract {steps['mean']}, divide by {steps['std']}")


def print_bundle(path, found: dict) -> None:
    """``inspect model.pvb``: what the bundle is, in a few lines."""
    backbone, steps, validation = found["backbone"], found["preprocessing"], found["validation"]
    console.print(f"[bold]{_as_text(path)}[/] (pocketvision bundle, format "
                  f"{found['bundle_format_version']})", highlight=False)
    console.print(f"  labels: {_as_text(', '.join(found['labels']))}", highlight=False)
    console.print(_as_text(f"  backbone: {backbone['name']} ({backbone['feature_dim']} features, "
                     f"weights {backbone['weights']}"
                     f"{', fine-tuned' if backbone['fine_tuned'] else ''})"), highlight=False)
    console.print(_as_text(f"  input: RGB, resize shorter side to {steps['resize']}, centre-crop "
                     f"{steps['crop']}, {_caller_scaling({'range': [0, 1]}, steps)}"),
                  highlight=False)
    if validation["accuracy"] is not None:
        console.print(f"  validation: {validation['accuracy']:.1%} accuracy on "
                      f"{validation['images']} images" + ("" if validation["ece"] is None else
                      f", calibration error {validation['ece']:.3f}"), highlight=False)
    novelty = found["novelty"]
    if novelty is None:
        console.print("  unknown detection: none (trained without it)")
    else:
        rejected = novelty["rejected_validation_share"]
        console.print(f"  unknown detection: {novelty['training_features']} training features, "
                      f"threshold {novelty['threshold']:.3f}" + ("" if rejected is None else
                      f" ({rejected:.1%} of validation images called unknown)"), highlight=False)
    if found["created"]:
        console.print(_as_text(f"  trained: {found['created']} on {found['training_images']} images"),
                      highlight=False)


def print_diagnosis(diagnosis, pictures: dict) -> None:
    counts = ", ".join(f"{name} {count}" for name, count in diagnosis.classes.items())
    console.print(f"{diagnosis.images} images in {len(diagnosis.classes)} classes ({_as_text(counts)})",
                  highlight=False)
    if not diagnosis.findings:
        console.print("[green]Nothing to fix found.[/]")
    for finding in diagnosis.findings[:50]:
        where = " · ".join(finding.paths)
        console.print(f"[bold]{finding.kind}[/] {_as_text(finding.why)}" +
                      (f"\n    {_as_text(where)}" if where else ""), highlight=False)
    if len(diagnosis.findings) > 50:
        console.print(f"... and {len(diagnosis.findings) - 50} more (--json lists them all)")
    for name, path in pictures.items():
        console.print(f"  {name}: {_as_text(path)}", highlight=False)


def print_site(written: dict) -> None:
    site = written["site"]
    console.print(f"Phone studio for [bold]{escape(written['backbone'])}[/] written to "
                  f"[bold]{escape(site)}[/] ({written['files']} files, "
                  f"{written['bytes'] / 1e6:.0f} MB)", highlight=False)
    console.print("  on this computer: python -m http.server 8000 --bind 127.0.0.1 --directory "
                  f"{escape(site)}, then open http://127.0.0.1:8000/", highlight=False)
    console.print("  on a phone: put the folder on any https host (GitHub Pages, ...), open it "
                  "once, add it to the home screen; it works offline from then on",
                  highlight=False)

"""Weight-space ensemble of a classifier and its fine-tuned self (WiSE-FT, Wortsman et al. 2022): the average of the
two weight sets keeps what the base knew while taking what the fine-tune learned, and reads unseen kinds of faces
better than either, at the cost of one network.

python -m models.training.interpolate --base BASE.pt --tuned TUNED.pt [TUNED2.pt ...] [--alpha 0.5] --out OUT.pt

Every checkpoint must be one EmoNet architecture, the tuned ones trained from the base (models.training.train --init),
or the average of the weights means nothing. Several tuned checkpoints (fine-tunes that differ in --seed) are first
averaged uniformly (a uniform model soup, Wortsman et al. 2022), then mixed with the base. The mixing weight is the
paper's default, 0.5, fixed before any measurement: it is not chosen on the real clips. The float temperature is
re-fitted on PublicTest to the targets the fine-tune trained on; run models.training.quantize on the result for its
int8 twin.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from app.errors import CommandLineParser
from models.classifier import WeightsError, load_checkpoint, network_logits, save_checkpoint
from models.network import EmoNet
from models.roots import file_sha256
from models.training.calibration import expected_calibration_error, fit_temperature, softmax
from models.training.corpus import mixed_targets
from models.training.data import DEFAULT_DATA, SELECT_SPLIT, load_split
from models.training.ferplus import DEFAULT_VOTES, load_votes
from models.training.quantize import calibration_vote_weight
from models.training.script import existing_file, run_script, writable_file

WISE_FT_ALPHA = 0.5  # the tuned model's share: WiSE-FT's default, set before measuring, never fitted here
DIGEST_CHARS = 12  # enough of a sha256 to tell checkpoints apart in the meta


def interpolated(base: EmoNet, tuned: EmoNet, alpha: float) -> EmoNet:
    """A copy of tuned whose float weights and BatchNorm statistics are (1 - alpha) * base + alpha * tuned."""
    if base.config != tuned.config:
        raise WeightsError(f"the two networks differ: {base.config} against {tuned.config}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    base_state = base.state_dict()
    state = {
        name: torch.lerp(base_state[name].float(), value.float(), alpha) if value.is_floating_point() else value
        for name, value in tuned.state_dict().items()
    }
    mixed = EmoNet(tuple(tuned.config["widths"]), tuned.config["num_classes"], tuned.config["dropout"])
    mixed.load_state_dict(state)
    return mixed.eval()


def uniform_soup(nets: list[EmoNet]) -> EmoNet:
    """The mean of every float weight and BatchNorm statistic of the nets: the running mean of interpolated()."""
    if not nets:
        raise ValueError("a soup needs at least one network")
    soup = nets[0]
    for count, net in enumerate(nets[1:], start=2):
        soup = interpolated(soup, net, 1.0 / count)
    return soup


def interpolate(base_path: Path, tuned_paths: list[Path], alpha: float, out: Path, data: Path, votes: Path) -> dict:
    """Writes the weight-space ensemble of the base and the soup of its fine-tunes to out with its float temperature;
    returns its meta."""
    faces, labels = load_split(data, SELECT_SPLIT)
    crowd, usable = load_votes(votes, SELECT_SPLIT, len(labels))
    writable_file(out)
    _, base = load_checkpoint(base_path)
    tuned_checkpoints, tuned_nets = zip(*(load_checkpoint(path) for path in tuned_paths), strict=True)
    model = interpolated(base, uniform_soup(list(tuned_nets)), alpha)
    tuned_meta = tuned_checkpoints[0].get("meta", {})
    vote_weight = calibration_vote_weight(tuned_meta)
    if any(calibration_vote_weight(c.get("meta", {})) != vote_weight for c in tuned_checkpoints):
        raise ValueError("the fine-tunes were trained on different targets (--vote-weight): their soup means nothing")
    logits = network_logits(model, faces)
    temperature = fit_temperature(logits, mixed_targets(labels, crowd, usable, vote_weight))
    meta = {
        "recipe": "weight-space ensemble (WiSE-FT) of the base and "
        + ("its fine-tune" if len(tuned_paths) == 1 else f"the uniform soup of its {len(tuned_paths)} fine-tunes")
        + " on FER2013 and wild stills",
        "interpolation": {
            "alpha": alpha,
            "base": {"path": str(base_path), "sha256": file_sha256(base_path)[:DIGEST_CHARS]},
            "tuned": [{"path": str(path), "sha256": file_sha256(path)[:DIGEST_CHARS]} for path in tuned_paths],
        },
        "vote_weight": vote_weight,
        "tuned": {k: v for k, v in tuned_meta.items() if k != "history"},
        "select_accuracy": float((logits.argmax(1) == labels).mean()),
        "temperature": temperature,
        "ece_before": expected_calibration_error(softmax(logits), labels),
        "ece_after": expected_calibration_error(softmax(logits, temperature), labels),
    }
    save_checkpoint(model, temperature, meta, out)
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = CommandLineParser(prog="python -m models.training.interpolate", description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=existing_file, required=True, help="the checkpoint the fine-tune started from")
    parser.add_argument(
        "--tuned",
        type=existing_file,
        nargs="+",
        required=True,
        help="the fine-tuned checkpoint(s) (models.training.train --init)",
    )
    parser.add_argument("--alpha", type=float, default=WISE_FT_ALPHA, help="the tuned weights' share")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--votes", type=Path, default=DEFAULT_VOTES)
    args = parser.parse_args(argv)

    def work() -> None:
        meta = interpolate(args.base, args.tuned, args.alpha, args.out, args.data, args.votes)
        print(json.dumps({k: v for k, v in meta.items() if k != "tuned"}, indent=1))

    return run_script(work)


if __name__ == "__main__":
    sys.exit(main())

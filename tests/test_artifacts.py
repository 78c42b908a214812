"""The one writer of checkpoints and cards: folders created, weights-only loading, no half-written card."""

import json

import pytest
import torch

from training.artifacts import save_checkpoint, write_card


def test_checkpoint_creates_its_folder_and_loads_weights_only(tmp_path):
    layer = torch.nn.Linear(3, 2)
    path = save_checkpoint(tmp_path / "a" / "b" / "net.pt", {"config": {"width": 3}, "state_dict": layer.state_dict()})
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["config"] == {"width": 3}
    torch.testing.assert_close(ckpt["state_dict"]["weight"], layer.weight.detach())
    assert [p.name for p in path.parent.iterdir()] == ["net.pt"]  # no temporary file left behind


def test_card_is_indented_json_with_a_final_newline(tmp_path):
    path = write_card(tmp_path / "cards" / "m.json", {"name": "m", "figures": [1, 2.5]})
    assert path.read_text() == json.dumps({"name": "m", "figures": [1, 2.5]}, indent=2) + "\n"


def test_a_failed_card_write_leaves_the_old_card(tmp_path):
    path = write_card(tmp_path / "m.json", {"name": "old"})
    with pytest.raises(TypeError):
        write_card(path, {"name": "new", "figure": object()})  # not JSON
    assert json.loads(path.read_text()) == {"name": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]

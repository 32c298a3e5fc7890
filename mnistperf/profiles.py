"""How big a run is: the `smoke`, `quick` and `paper` profiles.

    profile = get_profile("quick")
    config = train_config(profile, dataset="mnist", model="resnet18", batch_size=16,
                          optimizer="adam", lr=1e-3, device="cpu", experiment="mine")

A `Profile` holds only the sizes every experiment shares (subset sizes, epochs,
input geometry, AMP, DataLoader workers); an experiment's own sizes per profile
live in its module (mnistperf.experiments). `train_config` turns a profile and
the configuration fields into a `TrainConfig`. Subsets are the first N images of
each seeded split part, so a smaller profile sees a subset of a larger one.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnistperf.config import OFFICIAL_TEST_SIZE, SPLIT_SIZES, TrainConfig, check_choice


@dataclass(frozen=True)
class Profile:
    """How big a run is. Sizes are taken from the front of each seeded split part.

    `train_size` maps model name -> training images. Every profile gives both models
    the same images (and the SVM experiment takes the networks' images), so that a
    comparison of depth or of classical vs deep never measures the data instead.
    """

    name: str
    description: str
    train_size: tuple[tuple[str, int], ...]
    val_size: int
    test_size: int
    official_test_size: int
    epochs: int
    input_size: int
    channels: int
    amp: bool  # fp16 autocast on CUDA; CPU cases never enable it from a profile
    eval_batch_size: int
    num_workers: int  # DataLoader workers for the cases that use the DataLoader path

    def train_size_for(self, model: str) -> int:
        return dict(self.train_size)[model]


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="smoke",
            description="seconds per case, for CI: 512 train images, 1 epoch, 28x28x1",
            train_size=(("resnet18", 512), ("resnet50", 512)),
            val_size=256,
            test_size=512,
            official_test_size=512,
            epochs=1,
            input_size=28,
            channels=1,
            amp=False,
            eval_batch_size=256,
            num_workers=0,
        ),
        Profile(
            name="quick",
            description=(
                "minutes on a laptop CPU: 1,400 train images for every model and the SVMs, "
                "2 epochs, 28x28x1"
            ),
            train_size=(("resnet18", 1_400), ("resnet50", 1_400)),
            val_size=500,
            test_size=1_000,
            official_test_size=1_000,
            epochs=2,
            input_size=28,
            channels=1,
            amp=False,
            eval_batch_size=512,
            num_workers=2,
        ),
        Profile(
            name="paper",
            description=(
                "the study: full 42,000/6,000/12,000 split, 10 epochs, 224x224x3, "
                "AMP on GPU"
            ),
            train_size=(("resnet18", SPLIT_SIZES[0]), ("resnet50", SPLIT_SIZES[0])),
            val_size=SPLIT_SIZES[1],
            test_size=SPLIT_SIZES[2],
            official_test_size=OFFICIAL_TEST_SIZE,
            epochs=10,
            input_size=224,
            channels=3,
            amp=True,
            eval_batch_size=512,
            num_workers=4,
        ),
    )
}


def get_profile(name: str) -> Profile:
    check_choice("--mnistperf-profile", name, tuple(PROFILES))
    return PROFILES[name]


def train_config(profile: Profile, *, dataset: str, model: str, batch_size: int,
                 optimizer: str, lr: float, device: str, experiment: str, seed: int = 0,
                 **overrides) -> TrainConfig:
    """A TrainConfig sized by `profile`; keyword overrides win over the profile."""
    fields = dict(
        dataset=dataset,
        model=model,
        batch_size=batch_size,
        optimizer=optimizer,
        lr=lr,
        epochs=profile.epochs,
        device=device,
        experiment=experiment,
        profile=profile.name,
        train_size=profile.train_size_for(model),
        val_size=profile.val_size,
        test_size=profile.test_size,
        official_test_size=profile.official_test_size,
        input_size=profile.input_size,
        channels=profile.channels,
        amp=profile.amp and device == "gpu",
        eval_batch_size=profile.eval_batch_size,
        seed=seed,
    )
    fields.update(overrides)
    return TrainConfig(**fields)

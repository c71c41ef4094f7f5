"""The model zoo: shapes on every (model, dataset) pair the configs declare, parameter counts
against the reference definitions, spec mismatches, TF 'same' layers, the char-RNN state,
the VAE outputs and the PreResNet's scale invariance."""

from __future__ import annotations

import copy
import functools
import re

import pytest
import torch
import torch.nn.functional as F
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf, open_dict
from torch import nn

from conftest import CONF
from lrstudy.data.spec import DataSpec
from lrstudy.engine.tasks import TASKS
from lrstudy.errors import ConfigError
from lrstudy.models import BUILDERS, build_model
from lrstudy.models.tf_layers import SameConv2d, SameConvTranspose2d, SameMaxPool2d

SPECS = {
    "mnist": DataSpec("mnist", "image", (1, 28, 28), 10),
    "fmnist": DataSpec("fmnist", "image", (1, 28, 28), 10),
    "cifar10": DataSpec("cifar10", "image", (3, 32, 32), 10),
    "cifar100": DataSpec("cifar100", "image", (3, 32, 32), 100),
    "svhn": DataSpec("svhn", "image", (3, 32, 32), 10),
    "digits": DataSpec("digits", "vector", (64,), 10),
    "tiny": DataSpec("tiny", "image", (1, 8, 8), 10),
    "mnist1d": DataSpec("mnist1d", "vector", (40,), 10),
    "synthetic": DataSpec("synthetic", "image", (3, 32, 32), 10),
    "tolstoi": DataSpec("tolstoi", "tokens", (50,), 83),
    "quadratic_deep": DataSpec("quadratic_deep", "quadratic", (100,), 0),
}
MODEL_FILES = {conf["name"]: conf for conf in (yaml.safe_load(p.read_text())
                                                for p in sorted((CONF / "model").glob("*.yaml")))}
PAIRS = [(name, data) for name, conf in MODEL_FILES.items() for data in conf["datasets"]]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny CPU batches: one thread is as fast, and does not spin against concurrent jobs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@functools.cache
def composed(name: str) -> DictConfig:
    """conf/model/<name>.yaml composed with its schema (once: composition is slow)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(overrides=[f"+model={name}"]).model


@pytest.fixture
def model_cfg():
    """A copy of a composed model config with overrides ``key=value`` (``+key=value`` adds)."""

    def _make(name: str, *overrides: str) -> DictConfig:
        cfg = copy.deepcopy(composed(name))
        for override in overrides:
            key, value = override.removeprefix("+").split("=", 1)
            OmegaConf.update(cfg, key, yaml.safe_load(value), force_add=override[0] == "+")
        return cfg

    return _make


@functools.cache
def built(name: str, data: str) -> nn.Module:
    """The model of conf/model/<name>.yaml for ``data``, built once for the tests that only read
    it (timm models are slow to build on a CPU)."""
    torch.manual_seed(0)
    return build_model(copy.deepcopy(composed(name)), SPECS[data])


def example_batch(spec: DataSpec, batch: int = 2) -> torch.Tensor:
    if spec.kind == "tokens":
        return torch.randint(0, spec.num_classes, (batch, *spec.shape))
    return torch.randn(batch, *spec.shape)


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_every_config_has_a_builder_and_every_builder_a_config():
    assert set(MODEL_FILES) == set(BUILDERS)


@pytest.mark.parametrize(("name", "data"), PAIRS)
def test_declared_pairs_build_and_give_the_task_shapes(name, data):
    spec = SPECS[data]
    model = built(name, data)
    assert type(model).task in TASKS  # a class attribute, as the engine reads it
    x = example_batch(spec)
    out = model(x)
    if type(model).task == "classification":
        assert out.shape == (2, spec.num_classes)
    elif type(model).task == "vae":
        recon, mean, log_std = out
        assert recon.shape == x.shape and mean.shape == log_std.shape == (2, 8)
    elif type(model).task == "char_lm":
        logits, (h, c) = out
        assert logits.shape == (2, 50, spec.num_classes)
        assert h.shape == c.shape == (2, 2, 128)
    else:
        assert out.shape == (2, 100)
    tensors = [out] if torch.is_tensor(out) else [t for t in out if torch.is_tensor(t)]
    assert all(torch.isfinite(t).all() for t in tensors)


# Golden counts, derived by hand from the reference layer lists (never from our own output).
PARAMETERS = [
    # DeepOBS 2c2d (_2c2d.py): conv 5x5x1x32+32, conv 5x5x32x64+64, dense 3136x1024+1024,
    # dense 1024x10+10
    ("cnn_2c2d", "mnist", 3_274_634),
    # DeepOBS 3c3d (_3c3d.py): 4864 + 55392 + 110720 + 1152x512+512 + 512x256+256 + 2570
    ("cnn_3c3d", "cifar10", 895_210),
    # cifar100_allcnnc.py: 2688 + 2 x 83040 + 166080 + 3 x 331968 + 37056 + 19300
    ("allcnnc", "cifar100", 1_387_108),
    # _wrn.py, 16-4: stem 432; stage 1 47264 + 73984; stage 2 229760 + 295424;
    # stage 3 918272 + 1180672; final BN 512; dense 2570
    ("wrn16_4", "svhn", 2_748_890),
    # _vae.py: convs 1088 + 2 x 65600; heads 2 x 25096; dense 216 + 1225;
    # deconvs 1088 + 2 x 65600; dense 12544x784+784
    ("mnist_vae", "mnist", 10_151_489),
    # tolstoi_char_rnn.py: embedding 83x128, 2 LSTMCells of 256x512+512, softmax 128x83+83
    # = 284,499 in TF; PyTorch's LSTM holds a second bias vector per layer: + 2 x 512
    ("char_rnn", "tolstoi", 284_499 + 2 * 512),
    ("quadratic", "quadratic_deep", 100),
    # He et al. 2016 PreResNet-32 (5 blocks per stage, widths 16/32/64, BN, 1x1 projections):
    # stem 432; stage 1 5 x 4672; stage 2 14432 + 4 x 18560; stage 3 57536 + 4 x 73984;
    # final BN 128; fc 650 (He et al. quote 0.46M for ResNet-32)
    ("preresnet32", "cifar10", 466_714),
    # the CIFAR ResNet-18/34 of kuangliu/pytorch-cifar (3x3 stem, 1x1 conv + BN shortcuts);
    # ResNet-18: stem 1856, stages 147968, 525568, 2099712, 8393728, fc 5130
    ("resnet18", "cifar10", 11_173_962),
    ("resnet34", "cifar10", 21_282_122),
    # ViT-Ti (dim 192, depth 12, 3 heads, MLP 768), patch 4 on 32x32: patch embed 48x192+192,
    # cls 192, pos 65x192, 12 blocks x 444864, final norm 384, head 1930
    ("vit", "cifar10", 5_362_762),
    # FCN 3 x 512 on 784 inputs: 784x512+512 + 2 x (512x512+512) + 512x10+10
    ("fcn", "mnist", 932_362),
]


@pytest.mark.parametrize(("name", "data", "expected"), PARAMETERS)
def test_parameter_counts_match_the_references(name, data, expected):
    assert count(built(name, data)) == expected


@pytest.mark.parametrize(("name", "spec", "overrides", "message"), [
    ("mnist_vae", SPECS["cifar10"], (),
     "model=mnist_vae needs 1x28x28 images; data=cifar10 gives 3x32x32 images"),
    ("cnn_2c2d", SPECS["tolstoi"], (), "model=cnn_2c2d needs CxHxW images; data=tolstoi"),
    ("cnn_3c3d", SPECS["tiny"], (), "needs images of at least 9x9 pixels; data=tiny gives 1x8x8"),
    ("allcnnc", SPECS["tiny"], (), "needs images of at least 9x9 pixels; data=tiny gives 1x8x8"),
    ("quadratic", SPECS["mnist"], (), "model=quadratic needs a quadratic problem; data=mnist"),
    ("char_rnn", SPECS["mnist"], (), "model=char_rnn needs token sequences"),
    ("fcn", SPECS["tolstoi"], (), "model=fcn needs images or vectors; data=tolstoi"),
    ("fcn", DataSpec("regression", "vector", (5,), 0), (), "needs a classification set"),
    ("wrn16_4", SPECS["mnist1d"], (), "model=wrn16_4 needs CxHxW images; data=mnist1d"),
    ("resnet18", SPECS["mnist1d"], (), "model=resnet18 needs CxHxW images"),
    ("vit", SPECS["mnist"], (), "model=vit needs 32 pixel images (kwargs.img_size); data=mnist"),
    ("vit", SPECS["cifar10"], ("kwargs.patch_size=64",), "model=vit cannot take data=cifar10"),
    ("vit", SPECS["cifar10"], ("+kwargs.depht=3",), "model=vit: timm cannot build vit_tiny"),
    ("vit", SPECS["cifar10"], ("cifar_stem=true",), "cifar_stem=true works for timm ResNets"),
    ("resnet18", SPECS["cifar10"], ("+kwargs.pretrained=true",), "may not set pretrained"),
    ("wrn16_4", SPECS["cifar10"], ("depth=15",), "depth must be 6n+4"),
    ("wrn16_4", SPECS["cifar10"], ("norm=group",), "norm must be batch or layer"),
    ("preresnet32", SPECS["cifar10"], ("depth=33",), "depth must be 6n+2"),
    ("preresnet32", SPECS["cifar10"], ("norm=group", "norm_groups=3"), "divisible by norm_gr"),
    ("fcn", SPECS["mnist"], ("activation=swish",), "activation=swish is not one of relu"),
])
def test_a_model_that_cannot_take_the_data_says_so_in_one_line(model_cfg, name, spec,
                                                               overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as e:
        build_model(model_cfg(name, *overrides), spec)
    assert "\n" not in str(e.value)


def test_unknown_model_lists_the_known_ones(model_cfg):
    cfg = model_cfg("fcn")
    with open_dict(cfg):
        cfg.name = "lenet"
    with pytest.raises(ConfigError, match="unknown model=lenet; known: allcnnc, botnet, char_rnn"):
        build_model(cfg, SPECS["mnist"])


# --- TF 'same' layers (DeepOBS) ---------------------------------------------------------------


def test_same_conv_puts_the_odd_padding_pixel_after():
    conv = SameConv2d(2, 3, 3, stride=2)
    x = torch.randn(1, 2, 8, 8)
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, conv.bias, stride=2)
    torch.testing.assert_close(conv(x), expected)
    assert SameConv2d(1, 1, 5)(torch.randn(1, 1, 7, 9)).shape == (1, 1, 7, 9)


def test_same_max_pool_ignores_padding_and_rounds_up():
    x = -1 - torch.rand(1, 1, 7, 7)  # all negative: zero padding would win, -inf must not
    out = SameMaxPool2d(2, 2)(x)
    assert out.shape == (1, 1, 4, 4) and (out < 0).all()
    assert out[0, 0, -1, -1] == x[0, 0, -1, -1]


@pytest.mark.parametrize(("kernel", "stride"), [(4, 2), (4, 1), (3, 2), (5, 1)])
def test_same_conv_transpose_is_the_adjoint_of_the_same_conv(kernel, stride):
    """TF defines conv2d_transpose(padding='same') as the gradient of conv2d(padding='same')."""
    deconv = SameConvTranspose2d(3, 2, kernel, stride=stride).double()
    g = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    z = torch.randn(2, 2, 5 * stride, 6 * stride, dtype=torch.float64, requires_grad=True)
    conv = SameConv2d(2, 3, kernel, stride=stride, bias=False).double()
    conv.weight.data.copy_(deconv.weight.data)
    (conv(z) * g).sum().backward()
    bias = deconv.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(deconv(g) - bias, z.grad)


# --- initialisation as DeepOBS -----------------------------------------------------------------


def test_deepobs_initialisation(model_cfg):
    torch.manual_seed(0)
    net = build_model(model_cfg("cnn_2c2d"), SPECS["mnist"])
    assert (net.conv1.bias == 0.05).all() and (net.dense2.bias == 0.05).all()
    assert net.dense1.weight.abs().max() <= 0.1  # truncated at 2 std
    assert net.dense1.weight.std().item() == pytest.approx(0.05 * 0.88, rel=0.02)
    allcnnc = build_model(model_cfg("allcnnc"), SPECS["cifar100"])
    assert (allcnnc.conv9.bias == 0.1).all()
    assert allcnnc.dropout1.p == 0.2 and allcnnc.dropout2.p == 0.5
    wrn = build_model(model_cfg("wrn16_4"), SPECS["svhn"])
    assert isinstance(wrn.norm, nn.BatchNorm2d) and wrn.norm.momentum == 0.1  # TF decay 0.9
    assert (wrn.dense.bias == 0).all()
    rnn = build_model(model_cfg("char_rnn"), SPECS["tolstoi"])
    bias = rnn.lstms[0].bias_ih_l0
    assert (bias[128:256] == 1).all() and (bias[:128] == 0).all() and (bias[256:] == 0).all()


def test_wrn_variants(model_cfg):
    layer = build_model(model_cfg("wrn16_4", "norm=layer"), SPECS["cifar10"])
    norms = [m for m in layer.modules() if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm))]
    assert norms and all(isinstance(m, nn.GroupNorm) and m.num_groups == 1 for m in norms)
    thin = build_model(model_cfg("wrn16_4", "depth=10", "widen=1"), SPECS["cifar10"])
    # TF DeepOBS: a same-width first unit uses its pre-activation as the shortcut
    assert isinstance(thin.stages[0][0].shortcut, nn.Identity)
    assert thin(torch.randn(2, 3, 32, 32)).shape == (2, 10)


# --- char-RNN ---------------------------------------------------------------------------------


def test_char_rnn_carried_state_equals_one_long_sequence(model_cfg):
    torch.manual_seed(0)
    model = build_model(model_cfg("char_rnn"), SPECS["tolstoi"]).eval()
    x = torch.randint(0, 83, (3, 40))
    with torch.no_grad():
        full, (h_full, c_full) = model(x)
        first, state = model(x[:, :25])
        second, (h, c) = model(x[:, 25:], tuple(s.detach() for s in state))
    torch.testing.assert_close(torch.cat([first, second], dim=1), full)
    torch.testing.assert_close(h, h_full)
    torch.testing.assert_close(c, c_full)
    cold, _ = model(x[:, 25:])
    assert not torch.allclose(cold, second)  # the state matters


def test_char_rnn_dropout_acts_on_layer_inputs_and_outputs_in_training_only(model_cfg):
    model = build_model(model_cfg("char_rnn"), SPECS["tolstoi"])
    assert model.dropout.p == pytest.approx(0.2)
    x = torch.randint(0, 83, (2, 10))
    hits = []
    model.dropout.register_forward_hook(lambda *_: hits.append(1))
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])
    assert len(hits) == 2 * 2 * 2  # 2 layers x (input, output) x 2 calls
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])


# --- VAE --------------------------------------------------------------------------------------


def test_vae_gives_the_loss_ingredients_and_samples_in_eval(model_cfg):
    torch.manual_seed(0)
    model = build_model(model_cfg("mnist_vae"), SPECS["mnist"])
    x = torch.rand(4, 1, 28, 28)
    recon, mean, log_std = model(x)
    assert recon.shape == (4, 1, 28, 28) and mean.shape == log_std.shape == (4, 8)
    assert recon.min() >= 0 and recon.max() <= 1
    loss = TASKS["vae"](model, x, torch.zeros(4, dtype=torch.long), None).loss
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in model.parameters())
    model.eval()
    with torch.no_grad():
        (r1, m1, s1), (r2, m2, s2) = model(x), model(x)
    torch.testing.assert_close(m1, m2)  # no dropout in eval ...
    torch.testing.assert_close(s1, s2)
    assert not torch.equal(r1, r2)  # ... but z is still sampled (DeepOBS)
    model.train()
    assert not torch.equal(model(x)[1], model(x)[1])  # dropout in training


# --- quadratic --------------------------------------------------------------------------------


def test_quadratic_is_theta_minus_x_from_ones(model_cfg):
    model = build_model(model_cfg("quadratic"), SPECS["quadratic_deep"])
    assert [n for n, _ in model.named_parameters()] == ["theta"]
    assert torch.equal(model.theta, torch.ones(100))
    x = torch.randn(3, 100)
    torch.testing.assert_close(model(x), 1 - x)


# --- PreResNet scale invariance (Li & Arora) --------------------------------------------------


def scale_invariant_preresnet(model_cfg, norm: str) -> nn.Module:
    torch.manual_seed(0)
    model = build_model(model_cfg("preresnet32", "depth=8", f"norm={norm}",
                                  "freeze_norm_affine=true", "freeze_last_layer=true"),
                        SPECS["cifar10"]).double().train()
    for module in model.modules():  # exact invariance needs eps ~ 0 (eps shifts 1/sqrt(var))
        if isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
            module.eps = torch.finfo(torch.float64).tiny
    return model


@pytest.mark.parametrize("norm", ["batch", "group", "layer"])
def test_preresnet_is_scale_invariant_in_its_trainable_weights(model_cfg, norm):
    model = scale_invariant_preresnet(model_cfg, norm)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(p.dim() == 4 for p in trainable.values())  # conv weights only
    assert not any(p.requires_grad for p in model.fc.parameters())
    x = torch.randn(8, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():  # train mode: batch statistics
        reference = model(x)
        model.blocks[1].conv1.weight.mul_(3)  # one layer, followed by a norm
        torch.testing.assert_close(model(x), reference, rtol=1e-9, atol=1e-9)
        for p in trainable.values():  # all trainable weights together: L(c theta) = L(theta)
            p.mul_(3)
        torch.testing.assert_close(model(x), reference, rtol=1e-9, atol=1e-9)
        model.conv1.weight.mul_(3)  # control: the stem alone feeds an identity shortcut
        assert not torch.allclose(model(x), reference, rtol=1e-6, atol=1e-6)


def test_preresnet_freezing_removes_affine_and_fixes_the_head(model_cfg):
    plain = build_model(model_cfg("preresnet32"), SPECS["cifar10"])
    frozen = build_model(model_cfg("preresnet32", "freeze_norm_affine=true",
                                   "freeze_last_layer=true"), SPECS["cifar10"])
    norms = [m for m in frozen.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 31 and not any(m.affine for m in norms)
    assert count(plain) - count(frozen) == 2 * sum(m.num_features for m in norms)
    assert all(p.requires_grad for p in plain.parameters())


# --- timm -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resnet18", "resnet34"])
def test_timm_resnets_get_the_cifar_stem(name):
    net = built(name, "cifar10").net
    assert net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1)
    assert isinstance(net.maxpool, nn.Identity)


def test_timm_resnet_keeps_its_imagenet_stem_without_cifar_stem(model_cfg):
    net = build_model(model_cfg("resnet18", "cifar_stem=false"), SPECS["cifar10"]).net
    assert net.conv1.kernel_size == (7, 7) and isinstance(net.maxpool, nn.MaxPool2d)


def test_botnet_attention_sees_8x8_and_4x4_on_32x32():
    net = built("botnet", "cifar10").net
    sizes = []
    hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(tuple(i[0].shape[-2:])))
             for m in net.modules() if type(m).__name__ == "BottleneckAttn"]
    try:
        assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    finally:
        for hook in hooks:
            hook.remove()
    assert sizes == [(8, 8), (8, 8), (4, 4)]

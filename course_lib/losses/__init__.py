"""Distillation losses as pure functions, in two registries (see ``registry``).

``logits``: softmax at T, hard cross-entropy, Hinton's KD (KL with
``reduction="batchmean"`` on log-probabilities, times T^2), MSE on logits and
``distill_step`` (the alpha mix). ``variants``: logit standardisation, TTM,
the Renyi decomposition, InfoNCE and the adversarial terms. ``feature``:
FitNets' hint loss and RKD's distance and angle losses, which take no T.
"""
from .registry import FEATURE_LOSSES, LOSSES, get, get_feature, register, register_feature
from .logits import distill_step, hard_cross_entropy, kd_kl, mse_logits, softmax_t
from .variants import (discriminator_loss, generator_loss, kd_standardized, kd_ttm_decomposition,
                       renyi_entropy, standardize_logits, ttm)
from .feature import hint_mse, infonce, rkd_angle, rkd_distance

__all__ = ["FEATURE_LOSSES", "LOSSES", "get", "get_feature", "register", "register_feature", "distill_step",
           "hard_cross_entropy", "kd_kl", "mse_logits", "softmax_t", "discriminator_loss", "generator_loss",
           "infonce", "kd_standardized", "kd_ttm_decomposition", "renyi_entropy", "standardize_logits", "ttm",
           "hint_mse", "rkd_angle", "rkd_distance"]

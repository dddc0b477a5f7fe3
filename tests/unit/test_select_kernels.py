"""select-kernels: which library's kernel each option picks, and why it says so."""

from __future__ import annotations

import dataclasses

import pytest
from utc.compiler.ir.parser import parse_module
from utc.passes import select_kernels
from utc.passes.select_kernels import SelectKernels

IR = """
module @m {
  func.func() {sym_name = @main} ({
  ^entry(%x: tensor<1x4x!quant.uniform<i8:f32, 0.5:-3>>):
    %w = tensor.constant() {value = dense_resource<w>} : tensor<2x4x!quant.uniform<i8:f32, 0.25:0>>
    %y = qnn.fully_connected(%x, %w) {input_zp = -3, weights_zp = 0, output_zp = 10,
        mult = dense_resource<m>, shift = dense_resource<s>, act = [10, 127]}
        : tensor<1x2x!quant.uniform<i8:f32, 0.125:10>>
    func.return(%y) : ()
  }) : ()
}
{-#
  dense_resources: {
    w: tensor<2x4x!quant.uniform<i8:f32, 0.25:0>> = "0x0102030405060708",
    m: tensor<1xi32> = "0x00000040",
    s: tensor<1xi32> = "0x01000000",
  }
#-}
"""


def _chosen(kernels: str, target: str) -> tuple[str, str]:
    module = parse_module(IR)
    SelectKernels(kernels=kernels, target=target).run(module)
    fc = next(op for op in module.walk() if op.name == "qnn.fully_connected")
    return fc.attrs["kernel"], fc.attrs.get("kernel_note", "")


def test_cmsis_nn_first_on_cortex_m_reference_on_the_host() -> None:
    assert _chosen("auto", "cortex-m4")[0] == "arm_fully_connected_s8"
    assert _chosen("auto", "host")[0] == "utc_fully_connected_s8"
    assert _chosen("reference", "cortex-m4")[0] == "utc_fully_connected_s8"


@pytest.fixture
def utc_fc_faster_on_dsp(monkeypatch):
    """utc's fully connected kernel as if measured faster on DSP targets."""
    table = [dataclasses.replace(k, faster=lambda op, target: target.dsp)
             if k.name == "utc_fully_connected_s8" else k for k in select_kernels.KERNELS]
    monkeypatch.setattr(select_kernels, "KERNELS", table)


def test_auto_takes_a_utc_kernel_measured_faster_and_says_why(utc_fc_faster_on_dsp) -> None:
    kernel, note = _chosen("auto", "cortex-m4")
    assert kernel == "utc_fully_connected_s8"
    assert note == "cmsis-nn: utc_fully_connected_s8 is faster on cortex-m4 (measured)"
    # only where the record says so (no DSP on Cortex-M0), and never when CMSIS-NN is asked for
    assert _chosen("auto", "cortex-m0")[0] == "arm_fully_connected_s8"
    assert _chosen("cmsis-nn", "cortex-m4")[0] == "arm_fully_connected_s8"

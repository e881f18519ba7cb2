package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;

/**
 * A trainable fp32 leaf tensor with its PEFT-style name and optimizer group. The array is owned by
 * the adapter; callers must not close it.
 */
public record TrainableParam(String name, NDArray array, ParamGroup group) {}

package dev.l1ra.model.fused;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.training.ParameterStore;
import dev.l1ra.model.engine.EngineInfo;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A parameter-free TorchScript module that {@link TorchScriptArchive} wrote, loaded with DJL and
 * called with autograd: the call runs without DJL's no-grad guard, so inside a {@code
 * GradientCollector} it is recorded and {@code backward} reaches its inputs. Outputs belong to the
 * first input's manager and the current NDScope. The module holds no tensors, so it runs on
 * whatever device its inputs are on. Close to free it.
 */
final class TorchScriptModule implements AutoCloseable {
  private final Model model;
  private final Block block;
  private final ParameterStore store;
  private final Path file;

  private TorchScriptModule(Model model, Path file) {
    this.model = model;
    this.block = model.getBlock();
    this.store = new ParameterStore(model.getNDManager(), false);
    this.file = file;
  }

  /**
   * Writes (or reuses) {@code archive} in {@code cacheDir} and loads it on {@code device}.
   *
   * @throws IOException when the archive cannot be written
   * @throws MalformedModelException when the engine rejects it
   */
  static TorchScriptModule load(TorchScriptArchive archive, Device device, Path cacheDir)
      throws IOException, MalformedModelException {
    Path file = archive.writeTo(cacheDir);
    Model model = Model.newInstance("l1ra-" + archive.simpleName(), device, EngineInfo.ENGINE);
    try {
      model.load(file);
      return new TorchScriptModule(model, file);
    } catch (IOException | MalformedModelException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** forward(inputs) with autograd; exactly one output tensor. */
  NDArray call(NDList inputs) {
    for (NDArray a : inputs) {
      // DJL reads meaning into input names ("a.b" → dict, "x[]" → list): only pass unnamed arrays
      if (a.getName() != null && !a.getName().isEmpty()) {
        throw new IllegalArgumentException(
            "TorchScript inputs must be unnamed arrays, got one named \"" + a.getName() + "\"");
      }
    }
    // training=true: no no-grad guard around the call; autograd records iff grad mode is on
    return block.forward(store, inputs, true).singletonOrThrow();
  }

  /**
   * Runs {@code method} without autograd (the engine's inference guard), with arguments of any
   * TorchScript type built by the caller: tensors, lists of tensors or floats, floats, booleans.
   * The arguments are closed after the call; the caller closes the result.
   */
  IValue run(String method, IValue... args) {
    try {
      return IValueUtils.runMethod((PtSymbolBlock) block, method, args);
    } finally {
      for (IValue a : args) {
        a.close();
      }
    }
  }

  /** The archive file this module was loaded from. */
  Path file() {
    return file;
  }

  @Override
  public void close() {
    model.close();
  }
}

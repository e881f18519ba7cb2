package dev.l1ra.model.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.l1ra.model.engine.Ops;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The adapters of a step as host data: what the driver broadcasts to executors and what a task
 * rebuilds its adapters from. A pure value (fp32 arrays in {@link AdapterSet#trainable()} order),
 * so a task that is retried sees exactly the same adapters.
 *
 * @param values one fp32 array per trainable tensor, row-major
 */
public record AdapterSnapshot(List<AdapterEntry> entries, double dropout, List<float[]> values)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Copies the adapters' values to the host. */
  public static AdapterSnapshot of(AdapterSet adapters) {
    List<float[]> values = new ArrayList<>();
    for (TrainableParam p : adapters.trainable()) {
      values.add(p.array().toFloatArray());
    }
    return new AdapterSnapshot(adapters.entries(), adapters.dropout(), values);
  }

  /**
   * New adapters with these values in engine memory on {@code manager}'s device (caller closes).
   */
  public AdapterSet build(NDManager manager) {
    List<Adapter> list = new ArrayList<>();
    int k = 0;
    for (AdapterEntry e : entries) {
      List<NDArray> t = new ArrayList<>();
      for (AdapterEntry.NamedShape s : e.shapes()) {
        if (k >= values.size() || values.get(k).length != s.shape().size()) {
          throw new IllegalArgumentException(
              "adapter snapshot does not match its entries at tensor " + s.name());
        }
        NDArray x = Ops.engineOwned(manager.create(values.get(k++), s.shape()));
        NDScope.unregister(x);
        t.add(x);
      }
      list.add(e.adapter(t));
    }
    if (k != values.size()) {
      throw new IllegalArgumentException(
          "adapter snapshot has " + values.size() + " tensors, its entries need " + k);
    }
    return new AdapterSet(list, dropout);
  }
}

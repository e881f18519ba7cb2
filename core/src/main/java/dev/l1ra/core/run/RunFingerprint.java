package dev.l1ra.core.run;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.LinearKind;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.lora.AdapterSpec;
import dev.l1ra.core.util.Digests;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a run is and a resumed run may not change, stored in every checkpoint: the method, the base
 * model (path and shape) and precision, the adapters it started with (targets, ranks, alphas),
 * their initialisation and dropout, the training data (a content fingerprint), the global batch and
 * the seed. Everything else may change on resume: more steps ({@code train.steps}, {@code
 * train.epochs}), the eval, log and checkpoint cadence, threads, micro-batch, partitions, device,
 * attention kernel, recomputation, learning-rate settings.
 *
 * <p>Values are text so that a refusal can show both sides; long ones (the adapter layout) carry a
 * digest.
 */
public final class RunFingerprint {
  private RunFingerprint() {}

  /** One key whose value differs between the checkpoint and the config that would resume it. */
  public record Mismatch(String key, String saved, String now) {
    @Override
    public String toString() {
      return key + " was " + saved + ", now " + now;
    }
  }

  /**
   * The fingerprint of a run.
   *
   * @param initial the adapters the run starts with (before any rank moves)
   * @param data the training data's content fingerprint
   */
  public static Map<String, String> of(
      RunConfig cfg, ModelConfig model, AdapterLayout initial, String data) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("method", cfg.method().toString());
    f.put("model.path", absolute(cfg.model().path()));
    f.put("model.shape", shape(model));
    f.put("model.precision", cfg.model().precision().toString());
    f.put("adapters", layout(initial));
    f.put("lora.init", cfg.lora().init().toString());
    f.put("lora.dropout", String.valueOf(cfg.lora().dropout()));
    f.put("data.train", data);
    f.put("train.global_batch", String.valueOf(cfg.train().globalBatch()));
    f.put("run.seed", String.valueOf(cfg.run().seed()));
    return f;
  }

  /**
   * The keys whose values differ. Keys that only one side has are not compared (a checkpoint
   * written by a version that fingerprinted less).
   */
  public static List<Mismatch> compare(Map<String, String> saved, Map<String, String> now) {
    List<Mismatch> out = new ArrayList<>();
    now.forEach(
        (k, v) -> {
          String old = saved.get(k);
          if (old != null && !old.equals(v)) {
            out.add(new Mismatch(k, old, v));
          }
        });
    return out;
  }

  /** The message that refuses a resume: the keys, both values, and the two ways out. */
  public static String refusal(String run, Path checkpoint, Path config, List<Mismatch> bad) {
    return "cannot resume run "
        + run
        + " from "
        + checkpoint
        + ": it was trained with settings a resumed run cannot change: "
        + bad.stream().map(Mismatch::toString).collect(Collectors.joining("; "))
        + ". Restore them (the run's config is "
        + config
        + "), or start over with --fresh (the old run is moved aside, not deleted)";
  }

  /** A local model path made absolute; URIs ({@code scheme:/...}) as given. */
  public static String absolute(String path) {
    if (path.matches("[A-Za-z][A-Za-z0-9+.-]+:/.*")) {
      return path;
    }
    return Path.of(path).toAbsolutePath().normalize().toString();
  }

  /** The architecture in a line: what the adapters' shapes and the weights depend on. */
  static String shape(ModelConfig m) {
    return String.format(
        Locale.ROOT,
        "%s vocab %d hidden %d intermediate %d layers %d heads %d/%d head_dim %d",
        m.modelType(),
        m.vocabSize(),
        m.hiddenSize(),
        m.intermediateSize(),
        m.numLayers(),
        m.numHeads(),
        m.numKvHeads(),
        m.headDim());
  }

  /** Count, targets and Σr in words, and a digest of every module's rank, alpha and rsLoRA. */
  static String layout(AdapterLayout l) {
    String each =
        l.specs().stream()
            .map(s -> s.id().hfName() + " " + s.rank() + " " + s.alpha() + " " + s.rslora())
            .collect(Collectors.joining("\n"));
    String targets = l.kinds().stream().map(LinearKind::hfName).collect(Collectors.joining(","));
    return l.size()
        + " adapters on "
        + targets
        + ", Σr "
        + l.specs().stream().mapToInt(AdapterSpec::rank).sum()
        + ", digest "
        + Digests.of(each);
  }
}

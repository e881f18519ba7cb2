package dev.l1ra.core.config;

import static java.util.Objects.requireNonNullElse;
import static java.util.Objects.requireNonNullElseGet;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.lora.AdapterLayout;
import dev.l1ra.core.plan.InitialLayout;

/**
 * A whole run, as read from one YAML file ({@link RunConfigs#load}). Every section validates its
 * keys on construction; unknown keys are errors. Checks that span sections are made here, when the
 * config loads, before anything starts.
 *
 * @param method lora (fixed ranks from the strategy), l1ra (dynamic) or adalora (baseline)
 */
public record RunConfig(
    RunSection run,
    ModelSection model,
    DataSection data,
    Method method,
    LoraSection lora,
    TrainSection train,
    L1raSection l1ra,
    AdaLoraSection adalora,
    SparkSection spark) {

  public RunConfig {
    ConfigException.check(
        model != null, "model", null, "the model section is required (model.path)");
    ConfigException.check(data != null, "data", null, "the data section is required (data.train)");
    ConfigException.check(
        train != null, "train", null, "the train section is required (train.steps)");
    ConfigException.check(
        train.globalBatch() % spark.partitions() == 0,
        "train.global_batch",
        train.globalBatch(),
        "must be a multiple of spark.partitions = "
            + spark.partitions()
            + " (each worker takes an equal share of a step's samples)");
    ConfigException.check(
        !(spark.rounds() && method == Method.ADALORA),
        "spark.mode",
        spark.mode(),
        "method adalora needs every step's gradients on the driver (its importance scores and"
            + " budget schedule); use spark.mode: sync, or method l1ra/lora with rounds");
  }

  public boolean usesL1ra() {
    return method == Method.L1RA;
  }

  public boolean usesAdaLora() {
    return method == Method.ADALORA;
  }

  /** The adapters this run starts with on {@code model} ({@link InitialLayout}). */
  public AdapterLayout initialLayout(ModelConfig model) {
    return usesAdaLora()
        ? InitialLayout.adaLora(model, lora.settings(), adalora.initR())
        : InitialLayout.of(
            model, lora.settings(), lora.strategy(), lora.r(), lora.rMin(), lora.rMax());
  }

  /** The sections as written (absent: null); see {@link RunConfigs}. */
  private record Keys(
      RunSection run,
      ModelSection model,
      DataSection data,
      Method method,
      LoraSection lora,
      TrainSection train,
      L1raSection l1ra,
      AdaLoraSection adalora,
      SparkSection spark) {}

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  private static RunConfig of(Keys k) {
    return new RunConfig(
        requireNonNullElseGet(k.run(), () -> RunConfigs.defaults(RunSection.class)),
        k.model(),
        k.data(),
        requireNonNullElse(k.method(), Method.LORA),
        requireNonNullElseGet(k.lora(), () -> RunConfigs.defaults(LoraSection.class)),
        k.train(),
        requireNonNullElseGet(k.l1ra(), () -> RunConfigs.defaults(L1raSection.class)),
        requireNonNullElseGet(k.adalora(), () -> RunConfigs.defaults(AdaLoraSection.class)),
        requireNonNullElseGet(k.spark(), () -> RunConfigs.defaults(SparkSection.class)));
  }
}

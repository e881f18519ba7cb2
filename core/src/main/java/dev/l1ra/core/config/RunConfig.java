package dev.l1ra.core.config;

import java.util.List;

/**
 * A whole run, as read from one YAML file ({@link RunConfigs#load}). Every section validates its
 * keys on construction; unknown keys are errors.
 *
 * @param method lora (fixed ranks from the strategy), l1ra (dynamic) or adalora (baseline)
 */
public record RunConfig(
    RunSection run,
    ModelSection model,
    DataSection data,
    String method,
    LoraSection lora,
    TrainSection train,
    L1raSection l1ra,
    AdaLoraSection adalora,
    SparkSection spark) {
  public static final List<String> METHODS = List.of("lora", "l1ra", "adalora");

  public RunConfig {
    ConfigException.check(
        model != null, "model", null, "the model section is required (model.path)");
    ConfigException.check(data != null, "data", null, "the data section is required (data.train)");
    ConfigException.check(
        train != null, "train", null, "the train section is required (train.steps)");
    run = run == null ? RunSection.defaults() : run;
    method = method == null ? "lora" : method;
    ConfigException.check(METHODS.contains(method), "method", method, "use one of " + METHODS);
    lora =
        lora == null
            ? new LoraSection(null, null, null, null, null, null, null, null, null, null, null)
            : lora;
    l1ra =
        l1ra == null
            ? new L1raSection(null, null, null, null, null, null, null, null, null, null, null)
            : l1ra;
    adalora =
        adalora == null
            ? new AdaLoraSection(null, null, null, null, null, null, null, null)
            : adalora;
    spark = spark == null ? SparkSection.defaults() : spark;
  }

  public boolean usesL1ra() {
    return method.equals("l1ra");
  }

  public boolean usesAdaLora() {
    return method.equals("adalora");
  }
}

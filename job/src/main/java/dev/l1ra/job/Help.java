package dev.l1ra.job;

import java.util.List;
import java.util.Map;

/** Usage of every command: {@code --help} (all commands) and {@code COMMAND --help}. */
final class Help {
  static final List<String> COMMANDS =
      List.of("run", "train", "prep", "eval", "compress", "bench", "bench-dp", "memory", "parity");

  private static final String RUN_OPTIONS =
      """
        CONFIG                  a run config (YAML), or --config CONFIG
        --set key=value         override a config key (repeatable), e.g. --set train.steps=500
        --fresh                 start over: the run folder's earlier files move to
                                run.output_dir/NAME.old-<time> (never mixed with the new run)
      Without --fresh a run resumes its newest checkpoint, which must come from the same run:
      method, model, adapters, data, global batch, seed and precision as stored in it (more
      steps, cadence, threads and the like may change). A finished run is left as it is (more
      steps: --set train.steps=N). One job at a time per run folder (lock file NAME/.lock).
      SIGTERM/SIGINT: checkpoint at the next step, exit 143/130 with the command that resumes.
      Last line printed: the run's summary as one JSON object; outputs in run.output_dir/run.name/.
      """;

  private static final String SCORING =
      """
        --model DIR             Hugging Face model folder (config.json, safetensors)
        --data PATH             tokenized Parquet from prep (e.g. DIR/eval)
        --adapter DIR           a PEFT LoRA adapter to apply
        --precision P           fp32 (default) or fp16
        --device D              auto (default), cpu, gpu, gpu:N
        --attention A           auto (default), fused or plain
        --micro-batch N         samples per forward pass (default 8)
        --partitions N          Spark tasks (default 1)
        --master M              Spark master (default local[2])
      """;

  private static final Map<String, String> USAGE =
      Map.of(
          "run",
          """
          run CONFIG [--set key=value ...] [--fresh]
          Prepares the data when the config has data.prep (again only when its input files or
          prep settings change), trains, evaluates, exports the PEFT adapter, charts and
          report.json; with run.baseline, then the same-budget LoRA.
          run is the default command: `CONFIG` alone means `run CONFIG`.
          """
              + RUN_OPTIONS,
          "train",
          """
          train CONFIG [--set key=value ...] [--fresh]
          Training, eval and export only (the data must be prepared); resumes the latest checkpoint.
          """
              + RUN_OPTIONS,
          "prep",
          """
          prep --input PATH --tokenizer DIR --out DIR [options]
          Data preparation: validates OpenOrca-schema rows (bad rows to OUT/_rejected/), applies the
          chat template, tokenizes, masks the prompt, writes tokenized Parquet splits and stats.json.
          Last line printed: the stats as one JSON object.
            --input PATH            file, folder or glob (Parquet, JSON Lines, CSV)
            --format F              auto (from the extension), jsonl, parquet or csv
            --column a=b,...        our column names to the input's (question=instruction,...)
            --tokenizer DIR         tokenizer.json or the folder holding it
            --template T            auto (from the model's model_type), llama3, mistral, chatml
            --model-config PATH     the model's config.json (for --template auto and the EOS)
            --seq-len N             tokens per row (default 1024)
            --mode M                truncate (default) or pack
            --max-chars N           longer rows are rejected (default 32000)
            --max-rejected F        fail when a larger share of rows is rejected (default 0.05)
            --fraction F            keep this share of the input, by a hash of the id (default 1)
            --eval-fraction F       share of ids in the eval split (default 0.05)
            --test-fraction F       share of ids in the test split (default 0)
            --split-salt S          salt of the split hash (default l1ra)
            --output-partitions N   Parquet files per split (default 4)
            --out DIR               output folder (written in full or not at all)
            --config FILE           a YAML file with these settings (snake_case keys; flags win)
            --master M              Spark master (default local[2])
          """,
          "eval",
          """
          eval --model DIR --data PATH [--adapter DIR] [options]
          Scores a Hugging Face model folder, optionally with a PEFT LoRA adapter, on tokenized
          Parquet. Last line printed: {"loss": ..., "perplexity": ..., "tokens": ...}.
          """
              + SCORING,
          "compress",
          """
          compress --model DIR --adapter DIR --out DIR (--energy F | --total-rank N) [--data PATH]
          PARA compression of a trained adapter: the SVD of every ΔW, one global singular-value
          threshold; with --data both adapters are scored. Last line printed: threshold, kept
          energy, ranks and parameters (and losses) as one JSON object.
            --out DIR               where the compressed adapter goes (not the --adapter folder)
            --energy F              keep this fraction of Σσ² (e.g. 0.9)
            --total-rank N          keep exactly N ranks in all
          """
              + SCORING,
          "bench",
          """
          bench [--shape NAME | --model DIR] [options]
          Times training steps (forward, backward, the method's hooks, AdamW) on the device the
          engine finds. Last line printed: tokens_per_s, step_ms_median, the phase split
          (forward_backward_ms, optimizer_ms, other_ms), peak and estimated memory as JSON.
            --method M              lora (default), l1ra or adalora
            --shape NAME            tiny (default), small, llama3-1b, llama3-8b, mistral-7b
            --model DIR             a Hugging Face model folder instead of a random-weight shape
            --layers N              keep only N layers of the shape
            --batch N               samples per step (default 4)
            --seq N                 tokens per sample (default 512)
            --rank N                LoRA rank on all linear modules (default 16)
            --dtype D               fp32 (default) or fp16
            --steps N               timed steps after two warm-up steps (default 5)
            --attention A           auto (default), fused or plain
            --recompute             layer-wise activation recomputation
            --device D              auto (default), cpu, gpu, gpu:N
            --threads N             intra-op threads of the engine (default: the engine's)
            --seed N                random seed of weights and data
          """,
          "bench-dp",
          """
          bench-dp [--shape NAME] [--rank R] [--partitions P] [--master M] [--mode sync|rounds]
          The communication of data-parallel training on a Spark master, with a synthetic worker
          (no model: gradients and AdamW states of the layout's sizes): per round, broadcast the
          driver's state, one task per partition returns gradients (sync) or its state after H
          local steps (rounds), a reduction sums them, the driver runs AdamW or averages. For
          local-cluster masters first: export SPARK_HOME=$(scripts/spark-home.sh).
          Last line printed: ms_per_step (median round / H) and its split (broadcast_ms, tasks_ms,
          transfer_ms, merge_ms, optimizer_ms), bytes per round, settings, as JSON.
            --shape NAME            tiny (default), small, llama3-1b, llama3-8b, mistral-7b
            --layers N              keep only N layers of the shape
            --rank N                LoRA rank on all linear modules (default 16)
            --partitions N          tasks per round (default 2)
            --master M              local[N] (default local[2]), local-cluster[N,C,MB], spark://...
            --mode M                sync (default: one Spark job per step) or rounds
            --round-steps H         optimizer steps per round (rounds; default 4)
            --payload P             fp32 (default), fp16 or bf16: gradients (sync), state deltas
                                    (rounds)
            --reduce R              auto (default: direct up to 4 partitions, else scatter), direct
                                    (the driver sums all), scatter (reduce-scatter) or tree
            --fan-in N              tree: partials per reduce task and at the driver (default 4)
            --serializer S          java (default) or kryo
            --steps N               timed rounds after the warm-up (default 5)
            --warmup N              untimed rounds first (default 1)
            --set key=value         a Spark setting (repeatable); bench-dp sets
                                    spark.broadcast.compress and spark.shuffle.compress to false
          """,
          "memory",
          """
          memory CONFIG [--shape NAME [--layers N]] [--seq N] [--memory-gib G] [--set key=value ...]
          Peak device memory of one training worker for a run config, by term; with a device size,
          whether it fits and the largest micro_batch and lora.r that would.
          Last line printed: the estimate as one JSON object.
            CONFIG                  a run config (YAML), or --config CONFIG
            --shape NAME            a model shape (tiny, small, llama3-1b, llama3-8b, mistral-7b)
                                    instead of model.path's config.json
            --layers N              keep only N layers of the shape
            --seq N                 tokens per sample (default: data.prep.seq_len)
            --memory-gib G          one GPU's memory in GiB (default: train.memory_gib)
            --set key=value         override a config key (repeatable)
          """,
          "parity",
          """
          parity [--fixtures DIR] [--device D]
          The model-level parity checks against the transformers + PEFT fixtures on a device
          (base model and LoRA; plain and fused attention; recomputation; fp16), one line each.
          Last line printed: the counts as one JSON object; exit code 1 when a check fails.
            --fixtures DIR          the reference fixtures (default testdata/fixtures)
            --device D              auto (default), cpu, gpu, gpu:N
          """);

  private Help() {}

  static boolean isHelp(String arg) {
    return arg.equals("--help") || arg.equals("-h");
  }

  /** All commands, one line each. */
  static String overview() {
    StringBuilder b = new StringBuilder("l1ra COMMAND [options]; COMMAND --help for its options\n");
    for (String c : COMMANDS) {
      b.append("  ").append(USAGE.get(c).lines().findFirst().orElse(c)).append('\n');
    }
    return b.toString();
  }

  /** One command's usage and options. */
  static String of(String command) {
    String u = USAGE.get(command);
    if (u == null) {
      throw new IllegalArgumentException(
          "unknown command \"" + command + "\"; commands: " + String.join(", ", COMMANDS));
    }
    return "usage: " + u;
  }
}

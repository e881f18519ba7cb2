package dev.l1ra.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs CLI commands ({@code train}, {@code eval}, {@code compress}, ...) as child JVMs of this one
 * (same Java, JVM options and class path; {@code OMP_NUM_THREADS} set to the thread count), {@code
 * jobs} at a time, each after the tasks it depends on. A child's last stdout line (the command's
 * JSON summary) is kept as the task's result file, with the command line, its wall time and the CPU
 * time it used (sampled each second, so up to a second short). A task whose result file holds the
 * same command line, whose dependencies all were up to date and whose own check passes is not run
 * again, so an interrupted comparison continues where it stopped. After a failure no new task
 * starts; the error names the child's log.
 */
final class ChildTasks {
  private static final Logger LOG = LoggerFactory.getLogger(ChildTasks.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One child command.
   *
   * @param id unique name (also of its log files)
   * @param argv arguments of {@code Main}
   * @param result where the result JSON goes
   * @param deps ids of tasks that must finish first
   * @param upToDate extra condition for reusing an existing result (e.g. the run's config)
   */
  record Task(
      String id, List<String> argv, Path result, List<String> deps, BooleanSupplier upToDate) {}

  /** Children still running; stopped when this JVM exits (Ctrl-C on the comparison). */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroy), "stop-child-tasks"));
  }

  private final Path logs;
  private final int jobs;
  private final int threads;
  private final Map<String, Task> tasks = new LinkedHashMap<>();

  ChildTasks(Path logs, int jobs, int threads) {
    this.logs = logs;
    this.jobs = jobs;
    this.threads = threads;
  }

  void add(Task t) {
    for (String d : t.deps()) {
      if (!tasks.containsKey(d)) {
        throw new IllegalArgumentException("task " + t.id() + " depends on unknown task " + d);
      }
    }
    if (tasks.putIfAbsent(t.id(), t) != null) {
      throw new IllegalArgumentException("task " + t.id() + " added twice");
    }
  }

  /** Runs every task (or reuses its result); the results by task id. */
  Map<String, JsonNode> runAll() {
    ExecutorService pool = Executors.newFixedThreadPool(jobs);
    Map<String, CompletableFuture<Boolean>> ran = new ConcurrentHashMap<>();
    AtomicReference<RuntimeException> failed = new AtomicReference<>();
    AtomicInteger finished = new AtomicInteger();
    try {
      for (Task t : tasks.values()) {
        CompletableFuture<?>[] deps =
            t.deps().stream().map(ran::get).toArray(CompletableFuture[]::new);
        ran.put(
            t.id(),
            CompletableFuture.allOf(deps)
                .thenApplyAsync(
                    v -> {
                      boolean depRan = t.deps().stream().anyMatch(d -> ran.get(d).join());
                      boolean r = runOrReuse(t, depRan, failed);
                      LOG.info(
                          "compare: {}/{} tasks done ({})",
                          finished.incrementAndGet(),
                          tasks.size(),
                          t.id());
                      return r;
                    },
                    pool));
      }
      CompletableFuture.allOf(ran.values().toArray(CompletableFuture[]::new)).join();
    } catch (CompletionException e) {
      throw failed.get() != null // the first failure, not a later task's refusal to start
          ? failed.get()
          : e.getCause() instanceof RuntimeException r ? r : e;
    } finally {
      pool.shutdownNow();
    }
    Map<String, JsonNode> out = new LinkedHashMap<>();
    tasks.values().forEach(t -> out.put(t.id(), read(t.result())));
    return out;
  }

  /** True when the task ran (its dependents then run too), false when its result was reused. */
  private boolean runOrReuse(Task t, boolean depRan, AtomicReference<RuntimeException> failed) {
    if (!depRan && Files.isRegularFile(t.result()) && sameArgv(t) && t.upToDate().getAsBoolean()) {
      LOG.info("compare: {} is up to date ({})", t.id(), t.result());
      return false;
    }
    if (failed.get() != null) {
      throw new IllegalStateException(
          "compare: " + t.id() + " not started after an earlier failure");
    }
    try {
      run(t);
      return true;
    } catch (RuntimeException e) {
      failed.compareAndSet(null, e);
      throw e;
    }
  }

  private boolean sameArgv(Task t) {
    JsonNode prev = read(t.result());
    return prev.has("argv") && prev.get("argv").equals(JSON.valueToTree(t.argv()));
  }

  private void run(Task t) {
    Path out = logs.resolve(t.id() + ".out");
    Path err = logs.resolve(t.id() + ".log");
    long t0 = System.nanoTime();
    LOG.info("compare: {} starts: {} (log {})", t.id(), String.join(" ", t.argv()), err);
    int code;
    double cpu = 0;
    try {
      Files.createDirectories(logs);
      Files.deleteIfExists(t.result());
      ProcessBuilder pb =
          new ProcessBuilder(command(t.argv()))
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
      pb.environment().put("MKL_NUM_THREADS", String.valueOf(threads));
      pb.environment().putIfAbsent("MKL_DYNAMIC", "FALSE");
      Process p = pb.start();
      LIVE.add(p);
      while (!p.waitFor(1, TimeUnit.SECONDS)) { // the CPU time is only readable while it runs
        cpu = p.info().totalCpuDuration().map(d -> d.toMillis() / 1e3).orElse(cpu);
      }
      code = p.exitValue();
      LIVE.remove(p);
    } catch (IOException e) {
      throw new UncheckedIOException("compare: cannot start " + t.id() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("compare: interrupted while " + t.id() + " ran", e);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (code != 0) {
      throw new IllegalStateException(
          "compare: " + t.id() + " failed with exit code " + code + "; see " + err + lastLine(err));
    }
    ObjectNode n = lastJson(out, t.id());
    n.set("argv", JSON.valueToTree(t.argv()));
    n.put("wall_seconds", seconds);
    n.put("cpu_seconds", cpu); // user + system, sampled each second (JVM start included)
    AtomicFiles.writeString(t.result(), n.toString());
    LOG.info(
        "compare: {} done in {} s ({} s of CPU)",
        t.id(),
        String.format("%.0f", seconds),
        String.format("%.0f", cpu));
  }

  /** This JVM's java, options and class path, running {@code Main argv}. */
  private static List<String> command(List<String> argv) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(argv);
    return cmd;
  }

  private static ObjectNode lastJson(Path out, String id) {
    try {
      List<String> lines = Files.readAllLines(out);
      for (int i = lines.size() - 1; i >= 0; i--) {
        if (lines.get(i).startsWith("{")) {
          return (ObjectNode) JSON.readTree(lines.get(i));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("compare: cannot read the output of " + id + ": " + e, e);
    }
    throw new IllegalStateException("compare: " + id + " printed no JSON summary; see " + out);
  }

  private static String lastLine(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return lines.isEmpty() ? "" : " (last line: " + lines.get(lines.size() - 1) + ")";
    } catch (IOException e) {
      return "";
    }
  }

  static JsonNode read(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}

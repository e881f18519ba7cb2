package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.config.RunConfigs;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/**
 * conf/databricks/job.json against the Jobs API 2.1 job settings (field names and types of the
 * parts it uses), and against the rest of what a Databricks run needs to agree on: the entry point
 * class, the Databricks runtime's Spark/Scala/JDK, the init script's libtorch, the JNI flavors DJL
 * ships, and the preset with its overrides.
 */
class DatabricksJobTest {
  static final Path DIR = PresetsTest.CONF.resolve("databricks");
  static final Path SCRIPT = DIR.resolve("install-torch-2.7.1-cu128.sh");

  /** Jobs API 2.1 field names, per object (JobSettings, Task, SparkJarTask, ClusterSpec, ...). */
  static final Map<String, Set<String>> FIELDS =
      Map.of(
          "job",
          Set.of(
              "name",
              "description",
              "tags",
              "tasks",
              "job_clusters",
              "email_notifications",
              "webhook_notifications",
              "notification_settings",
              "timeout_seconds",
              "health",
              "schedule",
              "trigger",
              "continuous",
              "max_concurrent_runs",
              "git_source",
              "format",
              "queue",
              "parameters",
              "run_as",
              "edit_mode",
              "deployment",
              "environments",
              "access_control_list",
              "budget_policy_id",
              "performance_target"),
          "task",
          Set.of(
              "task_key",
              "description",
              "depends_on",
              "run_if",
              "existing_cluster_id",
              "new_cluster",
              "job_cluster_key",
              "notebook_task",
              "spark_jar_task",
              "spark_python_task",
              "spark_submit_task",
              "pipeline_task",
              "python_wheel_task",
              "dbt_task",
              "sql_task",
              "run_job_task",
              "condition_task",
              "for_each_task",
              "libraries",
              "timeout_seconds",
              "max_retries",
              "min_retry_interval_millis",
              "retry_on_timeout",
              "email_notifications",
              "webhook_notifications",
              "notification_settings",
              "health",
              "environment_key",
              "disable_auto_optimization"),
          "spark_jar_task",
          Set.of("main_class_name", "parameters", "jar_uri", "run_as_repl"),
          "new_cluster",
          Set.of(
              "spark_version",
              "node_type_id",
              "driver_node_type_id",
              "num_workers",
              "autoscale",
              "spark_conf",
              "spark_env_vars",
              "init_scripts",
              "custom_tags",
              "cluster_log_conf",
              "cluster_name",
              "autotermination_minutes",
              "enable_elastic_disk",
              "enable_local_disk_encryption",
              "instance_pool_id",
              "driver_instance_pool_id",
              "policy_id",
              "apply_policy_default_values",
              "data_security_mode",
              "single_user_name",
              "runtime_engine",
              "ssh_public_keys",
              "docker_image",
              "aws_attributes",
              "azure_attributes",
              "gcp_attributes",
              "workload_type",
              "kind",
              "is_single_node",
              "use_ml_runtime"),
          "library",
          Set.of("jar", "egg", "whl", "pypi", "maven", "cran", "requirements"),
          "init_script",
          Set.of("workspace", "volumes", "dbfs", "s3", "abfss", "gcs", "file"));

  static JsonNode job;
  static JsonNode task;
  static JsonNode cluster;

  @BeforeAll
  static void read() throws IOException {
    job = new ObjectMapper().readTree(DIR.resolve("job.json").toFile());
    task = job.get("tasks").get(0);
    cluster = task.get("new_cluster");
  }

  private static void onlyKnownFields(String kind, JsonNode n) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      assertTrue(
          FIELDS.get(kind).contains(f), kind + " has no field \"" + f + "\" in Jobs API 2.1");
    }
  }

  @Test
  void theJobUsesOnlyJobsApiFieldsWithTheirTypes() {
    onlyKnownFields("job", job);
    assertTrue(job.get("name").isTextual());
    assertTrue(job.get("tasks").isArray() && job.get("tasks").size() == 1);
    onlyKnownFields("task", task);
    assertTrue(task.get("task_key").asText().matches("[A-Za-z0-9_.-]{1,100}"), "task_key");
    for (String f : List.of("timeout_seconds", "max_retries", "min_retry_interval_millis")) {
      assertTrue(task.get(f).isIntegralNumber(), f);
    }
    onlyKnownFields("spark_jar_task", task.get("spark_jar_task"));
    task.get("spark_jar_task").get("parameters").forEach(p -> assertTrue(p.isTextual(), "" + p));
    task.get("libraries").forEach(l -> onlyKnownFields("library", l));
    onlyKnownFields("new_cluster", cluster);
    assertTrue(cluster.get("num_workers").isIntegralNumber());
    for (String map : List.of("spark_conf", "spark_env_vars")) {
      cluster.get(map).forEach(v -> assertTrue(v.isTextual(), map + " values are strings: " + v));
    }
    for (JsonNode s : cluster.get("init_scripts")) {
      onlyKnownFields("init_script", s);
      assertTrue(s.get("volumes").get("destination").asText().startsWith("/Volumes/"));
    }
  }

  @Test
  void theEntryPointIsTheJarTaskMainThatKeepsTheSessionAndTheJvm() throws Exception {
    String main = task.get("spark_jar_task").get("main_class_name").asText();
    assertEquals(JarTaskMain.class.getName(), main, "Main exits the JVM and stops the session");
    Method m = Class.forName(main).getMethod("main", String[].class);
    assertTrue(Modifier.isStatic(m.getModifiers()) && Modifier.isPublic(m.getModifiers()));
    List<String> params = new ArrayList<>();
    task.get("spark_jar_task").get("parameters").forEach(p -> params.add(p.asText()));
    assertEquals("run", params.get(0));
    assertTrue(
        task.get("libraries").get(0).get("jar").asText().endsWith("/l1ra-spark-job.jar"),
        "the cluster jar (job/pom.xml, cluster profile)");
  }

  /** DBR 15.4 LTS: Spark 3.5 / Scala 2.12; its default JDK is 8, JDK 17 only with JNAME. */
  @Test
  void theRuntimeIsTheSpark35Scala212BuildWithJdk17() throws Exception {
    String runtime = cluster.get("spark_version").asText();
    assertEquals("15.4.x-gpu-ml-scala2.12", runtime, "the LTS GPU ML runtime on Spark 3.5");
    assertEquals("zulu17-ca-amd64", cluster.get("spark_env_vars").get("JNAME").asText());
    Document pom =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(PresetsTest.CONF.resolve("../pom.xml").toFile());
    String scala =
        XPathFactory.newInstance()
            .newXPath()
            .evaluate(
                "/project/profiles/profile[id='spark-3.5']/properties/scala.binary.version", pom);
    assertTrue(runtime.endsWith("-scala" + scala), runtime + " vs the spark-3.5 profile " + scala);
    String description = job.get("description").asText();
    assertTrue(description.contains("-Pspark-3.5,cluster"), "build command: " + description);
    assertTrue(description.contains("job/target/spark-3.5/l1ra-spark-job.jar"), description);
    new BuildInfo("3.5.8", scala).check("3.5.0", "2.12.15"); // what DBR 15.4 reports: accepted
  }

  /** The init script installs what spark_env_vars point DJL at, in a flavor whose JNI DJL ships. */
  @Test
  void theInitScriptsTorchIsTheOneTheEnvironmentAndTheJniNeed() throws IOException {
    String script = Files.readString(SCRIPT);
    String version = shellVar(script, "TORCH_VERSION");
    String flavor = shellVar(script, "FLAVOR");
    String target = shellVar(script, "TARGET");
    JsonNode env = cluster.get("spark_env_vars");
    assertEquals("2.7.1", version, "DJL 0.36's PyTorch");
    assertEquals(version, env.get("PYTORCH_VERSION").asText());
    assertEquals(flavor, env.get("PYTORCH_FLAVOR").asText());
    assertEquals(target + "/torch/lib", env.get("PYTORCH_LIBRARY_PATH").asText());
    assertTrue(script.contains("download.pytorch.org/whl/$FLAVOR"), "the wheel index of FLAVOR");
    assertNotNull(
        getClass().getResource("/jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so"),
        "pytorch-jni carries no JNI for flavor " + flavor);
    String init = cluster.get("init_scripts").get(0).get("volumes").get("destination").asText();
    assertEquals(SCRIPT.getFileName().toString(), Path.of(init).getFileName().toString());
  }

  private static String shellVar(String script, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + "=(\\S+)$").matcher(script);
    if (!m.find()) {
      fail(SCRIPT + " sets no " + name);
    }
    return m.group(1);
  }

  /**
   * The preset and overrides load; one training task per GPU worker; no JVM flag that could clash
   * with the runtime's own (two garbage collectors stop the JVM: "Multiple garbage collectors").
   */
  @Test
  void thePresetWithItsOverridesFitsTheCluster() throws IOException {
    List<String> params = new ArrayList<>();
    task.get("spark_jar_task").get("parameters").forEach(p -> params.add(p.asText()));
    Path preset = PresetsTest.CONF.resolve(Path.of(params.get(1)).getFileName());
    List<String> sets = new ArrayList<>();
    for (int i = 2; i + 1 < params.size(); i += 2) {
      assertEquals("--set", params.get(i));
      sets.add(params.get(i + 1));
      assertTrue(params.get(i + 1).contains("=/Volumes/"), "paths under /Volumes: " + params);
    }
    RunConfig cfg = RunConfigs.load(preset, sets);
    assertEquals(cluster.get("num_workers").asInt(), cfg.spark().partitions(), "one task per GPU");
    assertEquals(
        "1", cluster.get("spark_conf").get("spark.task.resource.gpu.amount").asText(), "1 GPU");
    assertTrue(cfg.train().memoryGib() <= 80, "A100 80GB workers");
    cluster
        .get("spark_conf")
        .fields()
        .forEachRemaining(
            e -> assertFalse(e.getValue().asText().matches(".*-XX:\\+Use\\w*GC.*"), e.getKey()));
  }
}

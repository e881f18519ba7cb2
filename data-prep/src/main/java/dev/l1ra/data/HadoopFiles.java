package dev.l1ra.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.l1ra.core.util.Digests;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/** Reads of prep's inputs and outputs on any Hadoop file system (local, HDFS, S3A, DBFS). */
final class HadoopFiles {
  private HadoopFiles() {}

  /**
   * The files of an input (a file, a folder's files recursively, or a glob's matches; names
   * starting with {@code _} or {@code .} aside, as Spark reads them) in a line: count, bytes and a
   * digest of every (path, size, modification time).
   */
  static String listing(String input, Configuration hadoop) {
    Path p = new Path(input);
    List<String> lines = new ArrayList<>();
    long bytes = 0;
    try {
      FileSystem fs = p.getFileSystem(hadoop);
      FileStatus[] matches = fs.globStatus(p);
      for (FileStatus m : matches == null ? new FileStatus[0] : matches) {
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(m.getPath(), true);
        while (it.hasNext()) {
          LocatedFileStatus s = it.next();
          String name = s.getPath().getName();
          if (!name.startsWith("_") && !name.startsWith(".")) {
            lines.add(s.getPath() + "\t" + s.getLen() + "\t" + s.getModificationTime());
            bytes += s.getLen();
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list prep input " + input + ": " + e, e);
    }
    String all = lines.stream().sorted().collect(Collectors.joining("\n"));
    return lines.size() + " file(s), " + bytes + " bytes, digest " + Digests.of(all);
  }

  /**
   * The JSON file {@code dir/name}, or null when it does not exist.
   *
   * @throws IOException when it exists but cannot be read or parsed
   */
  static JsonNode readJson(String dir, String name, Configuration hadoop) throws IOException {
    Path p = new Path(dir, name);
    FileSystem fs = p.getFileSystem(hadoop);
    if (!fs.isFile(p)) {
      return null;
    }
    try (InputStream in = fs.open(p)) {
      return new ObjectMapper().readTree(in);
    }
  }
}

package org.chefbackend.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What makes a file of next secrets a rotation of the current ones: new database passwords (and so new derived
 * keys), everything a running cluster cannot change kept (etcd's initial cluster token, the search cluster name, the
 * cluster CA). Pure: callers load the files.
 */
public final class SecretsRotation {
    /** Beside the secrets file: {@code chef-backend-secrets.json.next}. */
    public static final String NEXT_SUFFIX = ".next";

    private SecretsRotation() {
    }

    public static Path nextFile(Path secretsFile) {
        return secretsFile.resolveSibling(secretsFile.getFileName() + NEXT_SUFFIX);
    }

    /** Why {@code next} cannot replace {@code current} under a running cluster; empty when it can. */
    public static Optional<String> problem(Secrets current, Secrets next) {
        if (current.ca() == null) {
            return Optional.of("this cluster is open (no cluster CA); close it with secure-cluster first");
        }
        if (!current.etcdInitialClusterToken().equals(next.etcdInitialClusterToken())) {
            return Optional.of("the next secrets change etcd's initial cluster token, which a running cluster cannot");
        }
        if (!current.elasticsearchClusterName().equals(next.elasticsearchClusterName())) {
            return Optional.of("the next secrets change the search cluster name, which a running cluster cannot");
        }
        if (!Objects.equals(current.ca(), next.ca())) {
            return Optional.of("the next secrets hold another cluster CA; rotate-secrets keeps the CA");
        }
        if (current.dbSuperuserPassword().equals(next.dbSuperuserPassword())
                || current.replicationPassword().equals(next.replicationPassword())) {
            return Optional.of("the next secrets keep a database password; make them with rotate-secrets --prepare");
        }
        return Optional.empty();
    }
}

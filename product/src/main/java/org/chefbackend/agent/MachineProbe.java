package org.chefbackend.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Optional;

/** The machine's answers to {@link ConfigChangeCheck}, from the kernel: what it lets us bind. */
public final class MachineProbe implements ConfigChangeCheck.Machine {
    @Override
    public boolean isLocal(String address) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public boolean isFree(InetSocketAddress endpoint) {
        return bindProblem(endpoint).isEmpty();
    }

    /** Why {@code endpoint} cannot be bound now, as the kernel says; empty when it can. */
    public static Optional<String> bindProblem(InetSocketAddress endpoint) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true); // as the services bind: a port in TIME_WAIT is free
            s.bind(endpoint);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }
}

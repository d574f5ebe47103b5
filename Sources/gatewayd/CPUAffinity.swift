import Foundation

/// How many cores this process may run on (its affinity mask, e.g. under `taskset` or a container's cpuset), so the
/// event loop count matches the cores actually available rather than the machine's total.
enum CPUAffinity {
    static func usableCores() -> Int {
        let fallback = max(1, ProcessInfo.processInfo.activeProcessorCount)
        // Linux reports the mask as ranges, e.g. "Cpus_allowed_list:\t0-1,4".
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
            let list = line.split(separator: ":").last
        else { return fallback }
        var count = 0
        for range in list.split(separator: ",") {
            let bounds = range.trimmingCharacters(in: .whitespaces).split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1 { count += 1 }
            if bounds.count == 2, bounds[1] >= bounds[0] { count += bounds[1] - bounds[0] + 1 }
        }
        return count > 0 ? min(count, fallback) : fallback
    }
}

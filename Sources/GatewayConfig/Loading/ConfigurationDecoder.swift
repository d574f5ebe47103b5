/// Reads every section of a configuration document into settings values, collecting every problem on the way.
/// Sections are read in dependency order (limits first: the providers' first-byte timeout defaults to it), not
/// file order.
struct ConfigurationDecoder {
    let document: YAMLDocument
    /// Absolute directory of the configuration file; relative paths are resolved against it.
    let baseDirectory: String

    /// Everything but the policy's content, which needs the providers first.
    struct Sections {
        let listen: ListenerSettings
        let admin: AdminSettings
        let providers: [ProviderSettings]?
        let limits: LimitSettings
        let shutdown: ShutdownSettings
        let rules: RulesSettings
        let policy: PolicySettings
        let keys: KeyStoreSettings
        let audit: AuditSettings
        let documents: DocumentSettings
    }

    func decode() -> Sections? {
        guard let root = document.rootMapping() else { return nil }
        let limits = root.section("limits") { decodeLimits($0) }
        let listen = root.section("listen") { decodeListener($0) }
        let admin = root.section("admin") { decodeAdmin($0, listener: listen) }
        let providers = ProviderDecoder(document: document, baseDirectory: baseDirectory, limits: limits).decode(root)
        let shutdown = root.section("shutdown") {
            ShutdownSettings(drainSeconds: $0.int("drain_seconds", default: ShutdownSettings.defaultDrainSeconds, in: 0...3600))
        }
        let rules = root.section("rules") {
            RulesSettings(
                directory: path($0, "directory", default: RulesSettings.defaultDirectory, mustExist: .directory),
                shadowDirectory: $0.value("shadow_directory") != nil
                    ? path($0, "shadow_directory", default: "", mustExist: .directory) : nil)
        }
        let policy = root.section("policy") {
            PolicySettings(file: path($0, "file", default: PolicySettings.defaultFile, mustExist: .file))
        }
        let keys = root.section("keys") {
            KeyStoreSettings(file: path($0, "file", default: KeyStoreSettings.defaultFile, mustExist: .fileIfPresent))
        }
        let audit = root.section("audit") {
            AuditSettings(
                directory: path($0, "directory", default: AuditSettings.defaultDirectory, mustExist: .directoryIfPresent),
                enabled: $0.bool("enabled", default: true),
                syncIntervalMilliseconds: decodeAuditSync($0)
            )
        }
        let documents = root.section("documents") { decodeDocuments($0) }
        root.finish()
        return Sections(
            listen: listen, admin: admin, providers: providers, limits: limits, shutdown: shutdown, rules: rules,
            policy: policy, keys: keys, audit: audit, documents: documents)
    }

    /// `sync: always` (default) or `sync: interval` with `interval_ms` (default 50).
    private func decodeAuditSync(_ audit: YAMLMapping) -> Int? {
        let mode = audit.string("sync", default: "always")
        let interval = audit.int("interval_ms", default: 50, in: 1...10_000)
        switch mode {
        case "always": return nil
        case "interval": return interval
        default:
            audit.problem(at: "sync", "'\(mode)' is neither always nor interval")
            return nil
        }
    }

    private func decodeDocuments(_ section: YAMLMapping) -> DocumentSettings {
        let defaults = DocumentSettings()
        return DocumentSettings(
            maxPages: section.int("max_pages", default: defaults.maxPages, in: 1...100_000),
            maxDecompressedBytes: section.int(
                "max_decompressed_bytes", default: defaults.maxDecompressedBytes, in: 1024...(1 << 34)),
            maxCompressionRatio: section.int("max_compression_ratio", default: defaults.maxCompressionRatio, in: 2...100_000),
            maxArchiveMembers: section.int("max_archive_members", default: defaults.maxArchiveMembers, in: 1...1_000_000),
            maxNestingDepth: section.int("max_nesting_depth", default: defaults.maxNestingDepth, in: 1...32),
            maxTextBytes: section.int("max_text_bytes", default: defaults.maxTextBytes, in: 1024...(1 << 32)),
            maxImagePixels: section.int("max_image_pixels", default: defaults.maxImagePixels, in: 1...1_000_000_000),
            inspectionDeadlineMilliseconds: section.int(
                "inspection_deadline_ms", default: defaults.inspectionDeadlineMilliseconds, in: 1...600_000),
            maxHeldUploadBytes: section.int(
                "max_held_upload_bytes", default: defaults.maxHeldUploadBytes, in: 0...(1 << 36)),
            ocrDataDirectory: path(section, "ocr_data", default: defaults.ocrDataDirectory, mustExist: .directoryIfPresent)
                .absolute,
            ocrLanguage: section.string("ocr_language", default: defaults.ocrLanguage))
    }

    private func decodeLimits(_ limits: YAMLMapping) -> LimitSettings {
        typealias L = LimitSettings
        return LimitSettings(
            maxBodyBytes: limits.int("max_body_bytes", default: L.defaultMaxBodyBytes, in: 1...(1 << 34)),
            maxHeaderBytes: limits.int("max_header_bytes", default: L.defaultMaxHeaderBytes, in: 1024...(1 << 20)),
            upstreamTimeoutSeconds: limits.int(
                "upstream_timeout_seconds", default: L.defaultUpstreamTimeoutSeconds, in: 1...86_400),
            inspectionDeadlineMilliseconds: limits.int(
                "inspection_deadline_ms", default: L.defaultInspectionDeadlineMilliseconds, in: 1...60_000),
            maxDecompressedBytes: limits.int(
                "max_decompressed_bytes", default: L.defaultMaxDecompressedBytes, in: 1...(1 << 36)),
            maxDecompressionRatio: limits.int(
                "max_decompression_ratio", default: L.defaultMaxDecompressionRatio, in: 1...100_000),
            connections: decodeConnectionLimits(limits))
    }

    private func decodeConnectionLimits(_ limits: YAMLMapping) -> ConnectionLimits {
        typealias C = ConnectionLimits
        return ConnectionLimits(
            tlsHandshakeSeconds: limits.int(
                "tls_handshake_timeout_seconds", default: C.defaultTLSHandshakeSeconds, in: 1...3_600),
            requestHeadSeconds: limits.int(
                "request_head_timeout_seconds", default: C.defaultRequestHeadSeconds, in: 1...3_600),
            requestBodySeconds: limits.int(
                "request_body_timeout_seconds", default: C.defaultRequestBodySeconds, in: 1...86_400),
            keepAliveSeconds: limits.int("keep_alive_timeout_seconds", default: C.defaultKeepAliveSeconds, in: 1...86_400),
            maxConnections: limits.optionalInt("max_connections", in: 1...10_000_000),
            maxBufferedBodyBytes: limits.int(
                "max_buffered_body_bytes", default: C.defaultMaxBufferedBodyBytes, in: 1...(1 << 40)),
            inspectionThreads: limits.optionalInt("inspection_threads", in: 1...1_024))
    }

    private func decodeListener(_ listen: YAMLMapping) -> ListenerSettings {
        let address = self.address(listen, default: ListenerSettings.defaultAddress)
        let port = listen.int("port", default: ListenerSettings.defaultPort, in: 0...65_535)
        let tls = listen.section("tls") { decodeListenerTLS($0) }
        let authentication = listen.choice("authentication", default: AuthenticationMode.key)
        if authentication.usesCertificates {
            if tls.clientCA == nil {
                listen.value("authentication")?.problem(
                    "'\(authentication.rawValue)' needs listen.tls.client_ca to verify client certificates")
            } else if tls.clientAuth == .none {
                listen.value("authentication")?.problem(
                    "'\(authentication.rawValue)' needs listen.tls.client_auth optional or required, not none")
            }
        }
        return ListenerSettings(
            address: address, port: port, tls: tls, authentication: authentication,
            forwardClientAddress: listen.bool("forward_client_address", default: false))
    }

    private func decodeListenerTLS(_ tls: YAMLMapping) -> ListenerTLSSettings {
        let certificate = path(tls, "certificate", default: ListenerTLSSettings.defaultCertificate, mustExist: .none)
        let key = path(tls, "key", default: ListenerTLSSettings.defaultKey, mustExist: .none)
        let clientCA = tls.value("client_ca") != nil ? path(tls, "client_ca", default: "", mustExist: .none) : nil
        let explicitClientAuth = tls.optionalChoice("client_auth", ClientAuthMode.self)
        let clientAuth = explicitClientAuth ?? (clientCA == nil ? .none : .optional)
        if clientAuth != .none, clientCA == nil {
            tls.value("client_auth")?.problem("'\(clientAuth.rawValue)' needs client_ca to verify client certificates")
        }
        var missing: Set<ListenerTLSSettings.MaterialFile> = []
        if !certificate.exists { missing.insert(.certificate) }
        if !key.exists { missing.insert(.key) }
        if let clientCA, !clientCA.exists { missing.insert(.clientCA) }
        if !missing.isEmpty, !(missing.contains(.certificate) && missing.contains(.key)) {
            // Only a complete absence can be filled with development certificates; anything else means an
            // operator's file is missing or misnamed.
            for file in missing.sorted(by: { $0.rawValue < $1.rawValue }) {
                let path = file == .certificate ? certificate : file == .key ? key : clientCA!
                tls.problem(
                    at: file.rawValue,
                    "file not found: \(path.written) (development certificates are created only when the certificate and key are both missing)")
            }
            missing = []
        }
        return ListenerTLSSettings(
            certificate: certificate, key: key, clientCA: clientCA, clientAuth: clientAuth,
            sessionTickets: tls.bool("session_tickets", default: true),
            ticketKeyRotationSeconds: tls.int(
                "ticket_key_rotation_seconds", default: ListenerTLSSettings.defaultTicketKeyRotationSeconds,
                in: 60...604_800),
            missingFiles: missing)
    }

    private func decodeAdmin(_ admin: YAMLMapping, listener: ListenerSettings) -> AdminSettings {
        let address = self.address(admin, default: AdminSettings.defaultAddress)
        let port = admin.int("port", default: AdminSettings.defaultPort, in: 0...65_535)
        let allowRemote = admin.bool("allow_remote", default: false)
        if !allowRemote, !NetworkAddress.isLoopback(address) {
            admin.problem(
                at: "address",
                "'\(address)' is reachable from other machines, but the admin listener has no TLS or authentication; use a loopback address or set allow_remote: true")
        }
        let sharesAddress = address == listener.address || [address, listener.address].contains { ["0.0.0.0", "::"].contains($0) }
        if port != 0, port == listener.port, sharesAddress {
            admin.problem(at: "port", "\(port) is also listen.port")
        }
        return AdminSettings(address: address, port: port, allowRemote: allowRemote)
    }

    private func address(_ mapping: YAMLMapping, default fallback: String) -> String {
        let address = mapping.string("address", default: fallback)
        if !NetworkAddress.isValid(address) {
            mapping.problem(at: "address", "'\(address)' is not an IP address or host name")
            return fallback
        }
        return address
    }

    /// What must be on disk at a configured path when the configuration is loaded.
    enum Existence { case none, file, directory, fileIfPresent, directoryIfPresent }

    func path(_ mapping: YAMLMapping, _ key: String, default fallback: String, mustExist: Existence) -> ConfiguredPath {
        let written = mapping.string(key, default: fallback)
        guard !written.isEmpty else {
            mapping.problem(at: key, "must not be empty")
            return ConfiguredPath(written: fallback, relativeTo: baseDirectory)
        }
        let path = ConfiguredPath(written: written, relativeTo: baseDirectory)
        switch mustExist {
        case .none: break
        case .file where !path.exists: mapping.problem(at: key, "file not found: \(written) (resolved to \(path.absolute))")
        case .directory where !path.isDirectory:
            mapping.problem(at: key, "directory not found: \(written) (resolved to \(path.absolute))")
        case .fileIfPresent where path.isDirectory: mapping.problem(at: key, "\(written) is a directory, expected a file")
        case .directoryIfPresent where path.exists && !path.isDirectory:
            mapping.problem(at: key, "\(written) is a file, expected a directory")
        default: break
        }
        return path
    }
}

extension YAMLMapping {
    /// A problem about `key`, located at its value when present and at this mapping otherwise.
    func problem(at key: String, _ message: String) {
        let line = entries.first { $0.key == key }?.node.mark?.line ?? mark?.line
        document.diagnostics.problem(document.file, path.appending(key: key), message, line: line)
    }
}

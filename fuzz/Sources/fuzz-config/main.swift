// fuzz-config: the input is a gateway.yaml. ConfigLoader must return a configuration or throw ConfigError (every
// problem listed), never crash. The text is validated as if it were <repository>/gateway.yaml, so relative paths in
// it (policy.yaml, rules/, certs/) resolve against the repository; only existence checks touch the disk.
import FuzzSupport
import GatewayConfig

let configPath = FuzzEnvironment.repositoryRoot + "/gateway.yaml"
let environment = ["OPENAI_API_KEY": "sk-fuzz", "ANTHROPIC_API_KEY": "sk-ant-fuzz", "GATEWAY_PORT": "8443"]

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = configPath
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try ConfigLoader.load(contents: text, path: configPath, environment: environment)
    } catch {
        invariant(!error.problems.isEmpty, "ConfigError without problems")
    }
    return 0
}

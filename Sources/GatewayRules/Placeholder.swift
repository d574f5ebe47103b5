// placeholder until the GatewayRules layer lands

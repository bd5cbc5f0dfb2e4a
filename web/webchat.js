// The stock rasa-webchat widget from the npm registry (vendored), as the
// platforms embed it, talking to the same Rasa socket.io channel. In a file,
// not inline in webchat.html: the bridge's Content-Security-Policy allows
// scripts from the bridge only.
(function () {
  "use strict";
  WebChat.default(
    {
      selector: "#webchat",
      initPayload: "/greet",
      socketUrl: (window.KEFU && window.KEFU.socketUrl) || location.origin,
      socketPath: "/socket.io/",
      title: "在线客服",
      subtitle: "打车 · 外卖 · 快递",
      inputTextFieldHint: "请输入您的问题…",
      embedded: true,
      showFullScreenButton: false,
      params: { storage: "session" },
      customData: { language: "zh" }
    },
    null
  );
})();

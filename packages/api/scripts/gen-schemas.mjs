console.log("gen-schemas: not yet");

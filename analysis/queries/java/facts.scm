; Facts about a Java file, read by analyzer/src/lang/java.rs.
;
; Capture names follow tree-sitter's tags.scm convention (@definition.*, @reference.*,
; @name) where one applies; the others are Autoscope's own and are named
; <what>.<part>. The extractor looks captures up by name, so patterns may be added or
; reordered freely.

; ---- Package and imports ---------------------------------------------------------

(package_declaration
  [(identifier) (scoped_identifier)] @package)

(import_declaration
  [(identifier) (scoped_identifier)] @import.path) @import

; ---- Type declarations -----------------------------------------------------------

(class_declaration
  name: (identifier) @name) @definition.class

(record_declaration
  name: (identifier) @name) @definition.class

(interface_declaration
  name: (identifier) @name) @definition.interface

(annotation_type_declaration
  name: (identifier) @name) @definition.interface

(enum_declaration
  name: (identifier) @name) @definition.enum

(superclass
  (_) @supertype)

(super_interfaces
  (type_list (_) @supertype))

(extends_interfaces
  (type_list (_) @supertype))

; Annotations on types, methods, constructors, fields, parameters and locals; the
; extractor attaches each to the declaration owning the `modifiers` node.
(modifiers
  [(annotation) (marker_annotation)] @annotation)

; ---- Fields and constants --------------------------------------------------------

(field_declaration
  type: (_) @field.type
  declarator: (variable_declarator
    name: (identifier) @field.name
    value: (_)? @field.value)) @field

(constant_declaration
  type: (_) @field.type
  declarator: (variable_declarator
    name: (identifier) @field.name
    value: (_)? @field.value)) @field

; ---- Methods and constructors ----------------------------------------------------

(method_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters) @definition.method

(constructor_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters) @definition.constructor

; ---- Locals and assignments (types of receivers, URL variables) -----------------

(local_variable_declaration
  type: (_) @local.type
  declarator: (variable_declarator
    name: (identifier) @local.name
    value: (_)? @local.value)) @local

(enhanced_for_statement
  type: (_) @local.type
  name: (identifier) @local.name) @local

(resource
  type: (_) @local.type
  name: (identifier) @local.name
  value: (_) @local.value) @local

; Lambda parameters hide constants of the same name (they have no declared value).
(lambda_expression
  parameters: [
    (identifier) @local.name
    (inferred_parameters (identifier) @local.name)
    (formal_parameters (formal_parameter name: (identifier) @local.name))
  ]) @local

; Also `this.url = ...`: a field assigned in a method is not a constant.
(assignment_expression
  left: [(identifier) (field_access)] @assign.name
  right: (_) @assign.value) @assign

; ---- Calls -----------------------------------------------------------------------

(method_invocation
  object: (_)? @receiver
  name: (identifier) @name
  arguments: (argument_list) @arguments) @reference.call

; `orders.forEach(this::cancel)` calls `cancel`: a call without arguments.
(method_reference
  .
  (_) @receiver
  (identifier) @name
  .) @reference.call

; ---- Where calls repeat, and where they are guarded ------------------------------

; Parts of a loop that run once per iteration (a `for` initializer and the iterable of
; an enhanced `for` run once).
(for_statement
  condition: (_) @loop.body)

(for_statement
  update: (_) @loop.body)

(for_statement
  body: (_) @loop.body)

(enhanced_for_statement
  body: (_) @loop.body)

(while_statement) @loop.body

(do_statement) @loop.body

; A lambda or method reference passed to a method that calls it per element.
((method_invocation
   name: (identifier) @loop.method
   arguments: (argument_list
     [(lambda_expression) (method_reference)] @loop.body))
 (#any-of? @loop.method
   "forEach" "forEachOrdered" "map" "flatMap" "filter" "peek" "mapToObj" "mapToInt"
   "mapToLong" "mapToDouble" "anyMatch" "allMatch" "noneMatch" "removeIf" "replaceAll"
   "reduce" "sorted" "takeWhile" "dropWhile" "iterate" "generate" "computeIfAbsent"))

; What a try block guards: its resources and its body, not its catch or finally.
(try_statement
  body: (block) @try.body)

(try_with_resources_statement
  resources: (resource_specification) @try.body)

(try_with_resources_statement
  body: (block) @try.body)

; ---- Error handling --------------------------------------------------------------

(catch_clause
  (catch_formal_parameter
    (catch_type) @catch.type)
  body: (block) @catch.body) @catch

(throw_statement) @throw

(return_statement
  (_) @return.value) @return

; ---- Manual spans ----------------------------------------------------------------

; OpenTelemetry `tracer.spanBuilder("name")`.
((method_invocation
   name: (identifier) @span.method
   arguments: (argument_list . (_) @span.name)) @span.opentelemetry
 (#eq? @span.method "spanBuilder"))

; OpenTracing `tracer.buildSpan("name")`.
((method_invocation
   name: (identifier) @span.method
   arguments: (argument_list . (_) @span.name)) @span.opentracing
 (#eq? @span.method "buildSpan"))

; OpenTelemetry `@WithSpan` / `@WithSpan("name")` on a method.
((annotation
   name: (_) @span.annotation_name) @span.annotation
 (#match? @span.annotation_name "(^|[.])WithSpan$"))

((marker_annotation
   name: (_) @span.annotation_name) @span.annotation
 (#match? @span.annotation_name "(^|[.])WithSpan$"))

// Starts GraphiQL against this server's /graphql, with an example query in the editor.
const defaultQuery = `# Which institutes did 浙江大学 co-build, and where are they?
{
  search(text: "浙江大学", kinds: [UNIVERSITY], first: 1) {
    id
    name
    nameEn
    coBuilt {
      name
      kind
      locatedIn { name }
    }
  }
}
`;
const root = ReactDOM.createRoot(document.getElementById('graphiql'));
root.render(
  React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({ url: new URL('/graphql', window.location.href).toString() }),
    defaultQuery,
    defaultEditorToolsVisibility: true,
  }),
);
